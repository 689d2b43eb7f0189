"""Cloud-sync settings, from the environment (prefix ``VAGUS_SYNC_``; docs/deploy.md).

Each provider's app registration is read separately (:func:`provider_config`):
``VAGUS_SYNC_<PROVIDER>_CLIENT_ID`` and ``_CLIENT_SECRET`` (a provider without them
cannot be connected), and optionally ``_AUTHORIZE_URL``, ``_TOKEN_URL``, ``_API_URL``
(a test server or a vendor's sandbox) and, for Oura push, ``_VERIFICATION_TOKEN``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SyncSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VAGUS_SYNC_", env_file=".env", extra="ignore")

    keys: str = Field(
        default="",
        description="Fernet keys, comma-separated, newest first: "
        "tokens are encrypted with the first and read with any (rotation).",
    )
    every_s: float = Field(default=3600.0, gt=0, description="Each connection's sync period.")
    jitter_s: float = Field(
        default=600.0,
        ge=0,
        description="Random delay added to each period, so that connections do not all sync at once.",
    )
    backfill_days: int = Field(
        default=90, ge=1, le=3650, description="The first sync fetches this many days back."
    )
    redirect_url: str | None = Field(
        default=None,
        description="The OAuth callback registered with every vendor; default "
        "<VAGUS_PUBLIC_URL>/v1/sync/callback.",
    )
    authorization_ttl_s: float = Field(
        default=900.0, description="A started connection must come back from the vendor within this long."
    )
    http_timeout_s: float = Field(default=30.0, description="One vendor request's timeout.")
    attempts: int = Field(default=5, ge=1, description="Tries of one request on 5xx/timeouts.")
    retry_base_s: float = Field(default=2.0, ge=0, description="First retry delay (doubles).")
    max_wait_s: float = Field(
        default=120.0,
        ge=0,
        description="Longest Retry-After a sync "
        "waits out in-process; a longer one re-queues the sync for then.",
    )
    refresh_margin_s: float = Field(
        default=300.0, ge=0, description="Access tokens are refreshed when they expire within this long."
    )


def get_sync_settings() -> SyncSettings:
    return SyncSettings()


@dataclass(frozen=True)
class ProviderConfig:
    """One vendor app registration (never logged: it holds the client secret)."""

    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    api_url: str
    verification_token: str | None = None

    def __repr__(self) -> str:  # the secret stays out of tracebacks and logs
        return f"ProviderConfig(client_id={self.client_id!r}, api_url={self.api_url!r})"


def provider_config(name: str, authorize_url: str, token_url: str, api_url: str) -> ProviderConfig | None:
    """The registration of provider ``name`` from the environment; None when not set up."""
    prefix = f"VAGUS_SYNC_{name.upper()}_"
    client_id = os.environ.get(prefix + "CLIENT_ID")
    client_secret = os.environ.get(prefix + "CLIENT_SECRET")
    if not client_id or not client_secret:
        return None
    return ProviderConfig(
        client_id=client_id,
        client_secret=client_secret,
        authorize_url=os.environ.get(prefix + "AUTHORIZE_URL", authorize_url),
        token_url=os.environ.get(prefix + "TOKEN_URL", token_url),
        api_url=os.environ.get(prefix + "API_URL", api_url).rstrip("/"),
        verification_token=os.environ.get(prefix + "VERIFICATION_TOKEN") or None,
    )
