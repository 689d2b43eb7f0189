"""Settings, read once from the environment (prefix ``VAGUS_``) and from an optional ``.env``."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The source checkout this module sits in (``service/core/settings.py``), if it is one.
REPO_ROOT = Path(__file__).resolve().parents[2]


def default_migrations_dir() -> Path:
    """``migrations/`` of a source checkout, else the copy an installed wheel carries."""
    checkout = REPO_ROOT / "migrations"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "vagus" / "migrations"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VAGUS_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL/TimescaleDB URL. Unset: an embedded PostgreSQL under data_dir."
    )
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("vagus")),
        description="Embedded database, uploaded files and demo data live here.",
    )
    migrations_dir: Path = Field(
        default_factory=default_migrations_dir, description="Folder of NNNN_name.sql migrations."
    )
    host: str = Field(default="127.0.0.1", description="Address `vagus serve` binds.")
    port: int = Field(default=8000, description="Port `vagus serve` binds.")
    public_url: str | None = Field(
        default=None, description="URL printed for users; default http://host:port."
    )
    max_upload_bytes: int = Field(default=8 << 30, description="Largest accepted upload.")
    pool_size: int = Field(default=10, description="Database connections per process.")
    request_pool_timeout_s: float = Field(
        default=3.0,
        gt=0,
        description="Longest wait of a request for a database connection; "
        "then 503 with Retry-After when the database is "
        "unreachable.",
    )
    request_busy_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait of a request for a connection while "
        "every connection is busy (database up); then 503.",
    )
    log_level: str = Field(default="INFO")
    # Abuse limits and browser access (docs/security.md).
    max_body_bytes: int = Field(default=1 << 20, description="Largest request body, uploads aside.")
    rate_limit_per_minute: float = Field(
        default=600,
        description="Sustained requests per token (per address without one); "
        "0 turns the limiter off. Per process.",
    )
    rate_limit_burst: int = Field(default=120, description="Requests allowed in a burst.")
    cors_origins: str = Field(default="", description="Comma-separated origins allowed by CORS; empty: none.")
    # Background jobs (service/jobs, docs/deploy.md).
    inbox: Path | None = Field(
        default=None,
        description="Inbox root (VAGUS_INBOX): files in <root>/<person-id>/ are "
        "imported. Default: data_dir/inbox.",
    )
    job_lease_s: float = Field(
        default=60.0,
        description="A claimed job's lease; a worker "
        "silent this long is presumed dead and its job re-claimed.",
    )
    job_poll_s: float = Field(default=1.0, description="Idle worker's polling interval.")
    job_retry_base_s: float = Field(default=10.0, description="First retry delay (doubles).")
    job_retry_max_s: float = Field(default=3600.0, description="Longest retry delay.")
    job_retention_days: int = Field(default=14, description="Keep succeeded jobs this long.")
    dead_job_retention_days: int = Field(
        default=60,
        description="Keep dead jobs (given up after their last attempt) this long; "
        "their payloads may name a person.",
    )
    inbox_every_s: float = Field(default=60.0, description="Inbox scan period.")
    recompute_every_s: float = Field(default=60.0, description="Recompute sweep period.")
    baselines_every_s: float = Field(default=900.0, description="Nightly-baseline sweep period.")
    maintenance_every_s: float = Field(default=3600.0, description="Maintenance period.")
    sync_sweep_every_s: float = Field(
        default=300.0, description="Seconds between scans for cloud connections due a sync."
    )
    nightly_hour: int = Field(
        default=3, ge=0, le=23, description="Local hour after which a person's night is done."
    )
    scheduler_election_s: float = Field(default=5.0, description="Scheduler election period.")
    webhook_timeout_s: float = Field(default=10.0, description="Webhook receiver timeout.")
    webhook_allow_networks: str = Field(
        default="",
        description="CIDR networks (comma-separated) webhooks may reach although "
        "not public, e.g. 127.0.0.0/8 for a receiver on this host; "
        "empty: public addresses only.",
    )
    trusted_proxies: str = Field(
        default="",
        description="CIDR networks (comma-separated) of reverse proxies whose "
        "X-Forwarded-For names the client; empty: trust none.",
    )
    # Windows around a session (docs/analysis-api.md); changing them recomputes stored responses.
    pre_window_search_min: int = Field(
        default=30,
        ge=5,
        le=240,
        description="pre: best 5-minute window in this many minutes before the start",
    )
    post_window_offset_min: int = Field(
        default=5, ge=0, le=120, description="post: search starts this many minutes after the end"
    )
    post_window_search_min: int = Field(
        default=30, ge=5, le=240, description="post: and lasts this many minutes"
    )
    control_days: int = Field(
        default=14, ge=1, le=60, description="control days are searched within this many days"
    )
    min_control_days: int = Field(
        default=3, ge=1, le=30, description="fewer usable control days: raw change, labelled"
    )
    next_days: int = Field(default=3, ge=1, le=14, description="days after a session followed")

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def inbox_dir(self) -> Path:
        return self.inbox or self.data_dir / "inbox"

    @property
    def embedded_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
