"""One Settings object for the whole platform, read from ``GOVSHARE_*`` variables.

Nested groups use a double underscore: ``GOVSHARE_SECURITY__LOCKOUT_MINUTES=30``.
The two database addresses stay flat (``GOVSHARE_DATABASE_URL``) because operators
type them most often.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "govshare-development-secret-change-me"
DEV_DATA_KEY = "ZGV2LWRhdGEta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="  # base64 of 32 bytes, development only


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class CryptoProfile(StrEnum):
    """``standard``: SHA-256 and AES-GCM; ``gm``: the 国密 profile, SM3 and SM4-GCM."""

    standard = "standard"
    gm = "gm"


class SecuritySettings(BaseModel):
    secret_key: str = DEV_SECRET
    data_key: str = Field(DEV_DATA_KEY, description="base64 of a 32-byte key for secrets at rest")
    crypto_profile: CryptoProfile = CryptoProfile.standard
    lockout_failures: int = 5
    lockout_minutes: int = 15
    idle_timeout_minutes: int = 30
    session_max_hours: int = 12
    password_min_length: int = 10
    mfa_required_roles: list[str] = ["bureau_admin", "bureau_reviewer"]
    secure_cookies: bool = False
    # reads of shared data are appended to this many audit chains besides the main one (0: all in one)
    audit_read_chains: int = Field(16, ge=0, le=256)


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    # the worker loop in a thread of ``govshare serve``; unset: yes on SQLite, no on PostgreSQL
    run_worker_in_process: bool | None = None


class ExcelSettings(BaseModel):
    """Limits of a catalog Excel import (``GOVSHARE_EXCEL__MAX_BYTES`` …); a larger file is refused whole."""

    max_bytes: int = 20 * 1024 * 1024
    max_resource_rows: int = 2000  # a department import runs in one request: about 1 minute at this size
    max_item_rows: int = 100_000


class FilesSettings(BaseModel):
    """The file channel (``GOVSHARE_FILES__MOUNT_ROOTS='["/mnt/provider"]'`` …).

    A provider may name a mounted directory only inside one of ``mount_roots``; with none configured,
    pulling from a directory is refused.
    """

    mount_roots: list[Path] = []
    max_bytes: int = 10 * 1024 * 1024 * 1024
    pull_timeout_seconds: float = 30.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOVSHARE_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    environment: Environment = Environment.development
    var_dir: Path = Path("var")
    database_url: str = ""
    base_url: str = ""
    security: SecuritySettings = SecuritySettings()
    server: ServerSettings = ServerSettings()
    excel: ExcelSettings = ExcelSettings()
    files: FilesSettings = FilesSettings()
    # shared nonce store and rate-limit counters of the consumer data API across server processes;
    # empty: the platform database holds them
    redis_url: str = ""

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == Environment.production and (
            self.security.secret_key == DEV_SECRET or self.security.data_key == DEV_DATA_KEY
        ):
            raise ValueError(
                "生产环境必须设置 GOVSHARE_SECURITY__SECRET_KEY 与 GOVSHARE_SECURITY__DATA_KEY,不能使用开发默认值"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'govshare.db').as_posix()}"

    @property
    def files_dir(self) -> Path:
        return self.var_dir / "files"


@lru_cache
def get_settings() -> Settings:
    return Settings()
