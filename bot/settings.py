"""Settings read from the environment or a `.env` file, validated once at start-up.

A bad value stops start-up with a message naming the setting (see `load_settings`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_STRUCTURE_FILE = Path(__file__).resolve().parent / "demo" / "structure.yaml"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'portail-famille.db'}"
_TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
_WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DEFAULT_WEBHOOK_PATH = "/telegram"
OPERATIONS_PATHS = frozenset({"/healthz", "/metrics"})


class SettingsError(Exception):
    """A setting is missing or has a bad value; the message names it."""


class Settings(BaseSettings):
    """Every setting of `.env.example`, typed."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    telegram_bot_token: str = Field(default="")
    telegram_api_base_url: str = Field(default="https://api.telegram.org/bot")
    telegram_api_base_file_url: str = Field(default="https://api.telegram.org/file/bot")
    telegram_bot_username: str = Field(default="")
    database_url: str = Field(default=DEFAULT_DATABASE_URL)
    admin_chat_id: int | None = Field(default=None)
    staff_user_ids: str = Field(default="")
    structure_file: Path = Field(default=DEMO_STRUCTURE_FILE)
    timezone: str = Field(default="Europe/Paris")
    invite_ttl_days: int = Field(default=60, ge=1, le=365)
    log_level: str = Field(default="INFO")
    reminder_interval_seconds: int = Field(default=60, ge=0, le=3600)
    send_rate_per_second: int = Field(default=30, ge=1, le=1000)
    max_concurrent_updates: int = Field(default=32, ge=1, le=1024)
    """Updates of different chats handled at the same time (one chat's are always in order)."""
    outbox_concurrency: int = Field(default=8, ge=1, le=64)
    """Messages of the outbox being sent at the same time."""
    payment_provider_token: str = Field(default="", repr=False)
    """Telegram Payments provider token (@BotFather > Payments); online payment needs it."""
    webhook_url: str = Field(default="")
    """The public HTTPS address Telegram posts updates to (`run --webhook`); its path is the
    route served (`/telegram` when it has none)."""
    webhook_secret: str = Field(default="", repr=False)
    """Telegram sends it back in `X-Telegram-Bot-Api-Secret-Token`; required for webhooks."""
    listen_address: str = Field(default="0.0.0.0")
    port: int = Field(default=8080, ge=1, le=65535)
    """The HTTP port of the webhook, `/healthz` and `/metrics`."""
    log_format: Literal["text", "json"] = Field(default="text")

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: str) -> str:
        value = value.strip()
        if value and not _TOKEN_PATTERN.match(value):
            raise ValueError("expected the form 123456789:ABC... given by @BotFather")
        return value

    @field_validator("telegram_api_base_url", "telegram_api_base_file_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected the public https:// address Telegram posts updates to")
        if parts.query or parts.fragment:
            raise ValueError("expected an address without ?query or #fragment")
        if (parts.path.rstrip("/") or DEFAULT_WEBHOOK_PATH) in OPERATIONS_PATHS:
            raise ValueError("/healthz and /metrics are taken: choose another path, e.g. /telegram")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: str) -> str:
        value = value.strip()
        if value and not _WEBHOOK_SECRET_PATTERN.match(value):
            raise ValueError("expected 1 to 256 characters among A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _check_log_format(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value.startswith(("postgresql://", "postgres://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///path.db or postgresql+asyncpg://user:pass@host/db"
            )
        return value

    @field_validator("staff_user_ids")
    @classmethod
    def _check_staff_ids(cls, value: str) -> str:
        for part in _split_ids(value):
            if not part.lstrip("-").isdigit():
                raise ValueError(f"{part!r} is not a Telegram user id (a number)")
        return value

    @field_validator("structure_file")
    @classmethod
    def _check_structure_file(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def tz(self) -> ZoneInfo:
        """The structure's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def webhook_path(self) -> str:
        """The path Telegram posts to: WEBHOOK_URL's, or `/telegram` when it has none."""
        return urlsplit(self.webhook_url).path.rstrip("/") or DEFAULT_WEBHOOK_PATH

    @property
    def webhook_address(self) -> str:
        """The full address given to `setWebhook` (WEBHOOK_URL, with `/telegram` if no path)."""
        parts = urlsplit(self.webhook_url)
        return parts._replace(path=self.webhook_path).geturl()

    @property
    def staff_ids(self) -> frozenset[int]:
        """Telegram user ids that are staff even outside the admin group."""
        return frozenset(int(part) for part in _split_ids(self.staff_user_ids))


def _split_ids(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings; raise `SettingsError` naming each bad one."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "?"
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("Invalid setting(s) — " + "; ".join(problems)) from exc
