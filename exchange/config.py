"""Settings, read from EXCHANGE_* environment variables; built only by the entrypoints."""

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.core.claims import Tlp


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXCHANGE_", extra="forbid")

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///exchange.sqlite3"
    public_url: str = "http://127.0.0.1:8000"
    """The exchange's own URL: the audience (`aud`) every bearer token must name."""
    operator_key: Path = Path("keys/operator.pem")
    """The exchange's Ed25519 key: signs issued tokens (and, later, alerts and checkpoints)."""
    max_body_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    max_objects: int = Field(default=10_000, gt=0)
    signature_clock_skew_seconds: int = Field(default=15 * 60, ge=0)
    default_tlp: Tlp = Tlp.AMBER
    max_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    log_origin: str | None = None
    """The sharing log's name in its checkpoints; default: the public URL's host + /audit."""
    checkpoint_interval_seconds: float = Field(default=5.0, ge=0)
    """How often the server signs a new checkpoint while entries arrive; 0: only on request."""

    webhook_allow_private: bool = False
    """Allow http:// and private, loopback or link-local webhook targets (tests, labs)."""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_first_retry_seconds: float = Field(default=5.0, gt=0)
    webhook_max_retry_seconds: float = Field(default=3600.0, gt=0)
    webhook_horizon_seconds: float = Field(default=24 * 3600.0, gt=0)
    """After this long without a 2xx, a delivery is dead-lettered (redeliver brings it back)."""
    webhook_concurrency: int = Field(default=16, gt=0)
    worker: bool = True
    """`exchange serve` runs a delivery worker in-process (the embedded setup needs no other)."""
    watchlist_max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)

    @property
    def audience(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def origin(self) -> str:
        return self.log_origin or f"{urlsplit(self.audience).netloc}/audit"

    @model_validator(mode="after")
    def _refuse_development_keys_in_production(self) -> "Settings":
        if self.environment == "production" and self.operator_key.name.endswith(".dev.pem"):
            raise ValueError("a *.dev.pem operator key is refused outside development")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """For the entrypoints only (CLI, ASGI factory); everything else takes Settings."""
    return Settings()
