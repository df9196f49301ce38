"""Settings: the only module that reads the environment."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, PrivateAttr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY_MIN_LENGTH = 32

KeyOrigin = Literal["environment", "file", "generated"]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    # Signs access tokens. Unset outside production: a random key made on first start and kept in
    # `secret_key_file` (mode 0600), so no install shares a key and none is in the source.
    secret_key: str = ""
    secret_key_file: Path = REPO_ROOT / ".data" / "secret_key"
    # Unset: the CLI starts an embedded PostgreSQL and fills this in for the processes it runs.
    database_url: str | None = None
    # Connections each API process keeps open, and how many more it may open under a burst. Keep
    # pool size near the concurrent requests one process serves: a request that finds the pool
    # empty waits (cheap), while overflow connections are closed after every burst and opened
    # again (a PostgreSQL backend fork and its statements prepared again: expensive).
    db_pool_size: int = Field(default=30, ge=1, le=500)
    db_max_overflow: int = Field(default=0, ge=0, le=500)
    # The connections that hold state in their server session: each API process's LISTEN
    # connection and the worker's leader lock. Unset: DATABASE_URL. Behind a transaction pooler
    # (PgBouncer pool_mode=transaction) point it at PostgreSQL itself.
    session_database_url: str | None = None
    embedded_pg_dir: Path = REPO_ROOT / ".data" / "postgres"
    # Another free port is used when this one is taken.
    embedded_pg_port: int = Field(default=54329, ge=1024, le=65535)
    storage_dir: Path = REPO_ROOT / ".data" / "storage"
    # Where attachments are kept: file:///path (a folder) or s3://bucket/prefix (see
    # docs/operations.md). Unset: the folder STORAGE_DIR, the older spelling of a file:// URL.
    # With s3://, STORAGE_DIR only holds uploads while they are received.
    storage_url: str | None = None
    # For s3://: an S3-compatible service's endpoint (unset: AWS), its region, and keys (unset:
    # the usual AWS credential chain: AWS_* variables, web identity, container or instance role).
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    api_host: str = "127.0.0.1"
    # Proxies whose X-Forwarded-For/-Proto headers are trusted (comma-separated, or "*").
    forwarded_allow_ips: str = "127.0.0.1"
    api_port: int = 8000
    web_host: str = "127.0.0.1"
    web_port: int = 3000
    # The browser-facing origin: the OAuth redirect URI and the WebSocket Origin check
    # derive from it.
    web_origin: str = "http://127.0.0.1:3000"
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    admin_email: str | None = None
    admin_password: str | None = None

    access_token_ttl_seconds: int = Field(default=900, ge=60, le=900)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)
    auth_code_ttl_seconds: int = Field(default=60, ge=10, le=60)
    # Failed sign-ins in `login_window_seconds`: per account from one address (then that pair
    # is blocked), per address across accounts (then the address is), and per account from
    # every address (then attempts on it are spaced out, at most a minute apart, never locked).
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=30, ge=1)
    login_max_failures_per_account: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # Sign-ups from one address in `signup_window_seconds`, taken or refused, before it waits.
    signup_max_per_address: int = Field(default=10, ge=1)
    signup_window_seconds: int = Field(default=3600, ge=1)

    # Every request body is capped while it is read: JSON (and anything but an upload) here,
    # multipart uploads at max_upload_bytes times max_attachments_per_issue.
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_attachments_per_issue: int = Field(default=20, ge=1)

    stats_interval_minutes: int = Field(default=30, ge=1)
    orphan_sweep_interval_minutes: int = Field(default=60, ge=1)
    token_cleanup_interval_minutes: int = Field(default=60, ge=1)
    # Test and demo hook: when set, every worker job runs this often (seconds) instead of its
    # *_interval_minutes. Minutes are too coarse to watch a fail-over happen in a test.
    worker_tick_seconds: float | None = Field(default=None, gt=0)
    # How often a standby worker retries the leader lock: the fail-over delay after the leader dies.
    worker_leader_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    # The worker serves its Prometheus metrics here; port 0 turns the endpoint off.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9100, ge=0, le=65535)

    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_provider_name: str = "Google"

    # Outgoing e-mail; without SMTP_HOST it is off and notifications stay in the app.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    mail_from: str | None = None
    # How often the worker turns new changes into notifications, sends due e-mail, and queues
    # the daily digests.
    notify_interval_seconds: float = Field(default=1.0, gt=0, le=300)
    mail_interval_seconds: float = Field(default=5.0, gt=0, le=300)
    digest_interval_minutes: int = Field(default=1440, ge=1)
    # How often the worker looks for a queued import (tracker.imports).
    import_interval_seconds: float = Field(default=2.0, gt=0, le=300)

    # Webhooks (docs/webhooks.md). The worker turns new events into deliveries and sends the
    # due ones this often (seconds): a first delivery goes out within about this long.
    webhook_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    # One try of a delivery: name resolution, connection, request and answer, all in all.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Deliveries one run sends at most, and how many of them at once.
    webhook_batch_size: int = Field(default=50, ge=1, le=1000)
    webhook_concurrency: int = Field(default=8, ge=1, le=100)
    # Host names and addresses exempt from the public-address rule (comma-separated).
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Delivered and failed deliveries, with their tries, are deleted this long after.
    webhook_retention_days: int = Field(default=30, ge=1, le=3650)

    # Swagger UI at /api/docs; unset: public everywhere but production.
    api_docs_public: bool | None = None

    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, data: dict[str, object]) -> dict[str, object]:
        raw = data.get("allowed_origins") if isinstance(data, dict) else None
        if isinstance(raw, str):
            data["allowed_origins"] = [o.strip() for o in raw.split(",") if o.strip()]
        return data

    @model_validator(mode="before")
    @classmethod
    def _split_webhook_hosts(cls, data: dict[str, object]) -> dict[str, object]:
        raw = data.get("webhook_allowed_hosts") if isinstance(data, dict) else None
        if isinstance(raw, str):
            data["webhook_allowed_hosts"] = [h.strip() for h in raw.split(",") if h.strip()]
        return data

    _signing_key_origin: KeyOrigin = PrivateAttr(default="environment")
    _storage_dir_overridden: bool = PrivateAttr(default=False)

    @model_validator(mode="after")
    def _resolve_storage_url(self) -> Settings:
        if not self.storage_url:
            return self
        parts = urlsplit(self.storage_url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path:
            path = Path(unquote(parts.path))
            self._storage_dir_overridden = (
                "storage_dir" in self.model_fields_set and path != self.storage_dir
            )
            self.storage_dir = path
        elif parts.scheme == "s3" and parts.netloc:
            self._storage_dir_overridden = "storage_dir" in self.model_fields_set
        else:
            raise ValueError(
                f"STORAGE_URL must be file:///absolute/path or s3://bucket/prefix, "
                f"not {self.storage_url!r}"
            )
        return self

    @model_validator(mode="after")
    def _refuse_insecure_settings(self) -> Settings:
        production = self.environment is Environment.PRODUCTION
        if not self.secret_key:
            if production:
                raise ValueError(
                    "SECRET_KEY must be set in production to a random value of at least "
                    f"{SECRET_KEY_MIN_LENGTH} characters (generate one with: openssl rand -hex 32)"
                )
            self.secret_key, self._signing_key_origin = _load_or_create_secret(self.secret_key_file)
        if len(self.secret_key) < SECRET_KEY_MIN_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be a random value of at least {SECRET_KEY_MIN_LENGTH} "
                "characters (generate one with: openssl rand -hex 32)"
            )
        if production and not self.database_url:
            raise ValueError("DATABASE_URL must be set in production")
        return self

    @property
    def signing_key_origin(self) -> KeyOrigin:
        """Where the signing key came from: SECRET_KEY, the key file, or made just now."""
        return self._signing_key_origin

    @property
    def storage_dir_overridden(self) -> bool:
        """STORAGE_DIR was set too, and STORAGE_URL decides where attachments are kept."""
        return self._storage_dir_overridden

    @property
    def docs_public(self) -> bool:
        if self.api_docs_public is None:
            return self.environment is not Environment.PRODUCTION
        return self.api_docs_public

    @property
    def origins(self) -> list[str]:
        return [self.web_origin, *self.allowed_origins]

    @property
    def oauth_redirect_uri(self) -> str:
        return f"{self.web_origin.rstrip('/')}/auth/callback"

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def mail_sender(self) -> str:
        """The From address: MAIL_FROM, or no-reply at the web origin's host."""
        host = urlsplit(self.web_origin).hostname or "localhost"
        return self.mail_from or f"Issues & Insights Tracker <no-reply@{host}>"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


def _load_or_create_secret(path: Path) -> tuple[str, KeyOrigin]:
    """This install's signing key from `path`, made there (0600) when it does not exist yet.

    The key is written to a temporary file and linked into place, so two processes starting at
    once agree on one key and neither ever reads a half-written file."""
    try:
        return _read_secret(path), "file"
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        return _read_secret(path), "file"
    finally:
        temporary.unlink()
    return _read_secret(path), "generated"


def _read_secret(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < SECRET_KEY_MIN_LENGTH:
        raise ValueError(f"{path} holds no usable signing key: delete it to make a new one")
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
