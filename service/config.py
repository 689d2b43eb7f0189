"""Settings, read once from the environment (prefix ``VAGUS_``) and from an optional ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VAGUS_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL/TimescaleDB URL. Unset: an embedded PostgreSQL under data_dir.")
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("vagus")),
        description="Embedded database, uploaded files and demo data live here.")
    migrations_dir: Path = Field(default=REPO_ROOT / "migrations",
                                 description="Folder of NNNN_name.sql migrations.")
    host: str = Field(default="127.0.0.1", description="Address `vagus serve` binds.")
    port: int = Field(default=8000, description="Port `vagus serve` binds.")
    public_url: str | None = Field(default=None,
                                   description="URL printed for users; default http://host:port.")
    max_upload_bytes: int = Field(default=8 << 30, description="Largest accepted upload.")
    pool_size: int = Field(default=10, description="Database connections per process.")
    log_level: str = Field(default="INFO")

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def embedded_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
