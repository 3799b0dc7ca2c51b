"""The structures one deployment serves, and the runtime of each one's bot.

A structure is a row of the registry (`storage.structure_registry`): its bot token, admin
group, staff, time zone, webhook secret and configuration (the structure file's YAML, given to
`portail-famille structure add`). Structure 1 is the structure of `.env`: at each start its row
takes TELEGRAM_BOT_TOKEN, ADMIN_CHAT_ID, STAFF_USER_IDS, TIMEZONE and WEBHOOK_SECRET, and its
configuration is STRUCTURE_FILE, so a single-structure deployment is configured as it always
was. Each structure's `Runtime` holds the deployment's settings with the structure's own put
in (`structure_settings`), and the database acting for that structure only.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import yaml

from bot.domain.rules import StructureConfigError
from bot.runtime import Runtime
from bot.settings import Settings
from bot.structure import Structure, parse_structure
from storage.db import Database
from storage.models import DEFAULT_STRUCTURE_ID, StructureRecord

WEBHOOK_PREFIX = "/tg/"
"""Each structure's bot gets its updates on `/tg/<slug>` (the `.env` one on WEBHOOK_URL's path)."""
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class TenancyError(Exception):
    """A structure of the registry cannot be served as it is; the message says which and why."""


@dataclass(frozen=True)
class ServedStructure:
    """One structure's bot, ready to be built: its settings, its configuration, its data."""

    record_id: int
    slug: str
    settings: Settings
    structure: Structure
    database: Database

    def on(self, database: Database) -> ServedStructure:
        """The same structure over another `Database` of the same URL (another event loop's)."""
        return replace(self, database=database.for_structure(self.record_id))

    def runtime(self) -> Runtime:
        """A new runtime for this structure's Application."""
        return Runtime(
            settings=self.settings,
            database=self.database,
            structure=self.structure,
            slug=self.slug,
        )


def check_slug(slug: str) -> str:
    """A valid short name (lower-case letters, digits and dashes), else `TenancyError`."""
    if not SLUG_PATTERN.match(slug):
        raise TenancyError(
            f"{slug!r}: a structure's short name is 1 to 40 lower-case letters, digits or dashes"
        )
    return slug


def new_webhook_secret() -> str:
    """A random secret for a structure's webhook (Telegram sends it back with each update)."""
    return secrets.token_urlsafe(32)


def parse_configuration(text: str, slug: str) -> Structure:
    """A structure's stored YAML, validated."""
    try:
        return parse_structure(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise TenancyError(f"structure {slug}: its configuration is not valid YAML") from exc
    except StructureConfigError as exc:
        raise TenancyError(f"structure {slug}: {exc}") from exc


def structure_webhook_url(settings: Settings, slug: str) -> str:
    """`<origin of WEBHOOK_URL>/tg/<slug>`, or "" without WEBHOOK_URL."""
    if not settings.webhook_url:
        return ""
    parts = urlsplit(settings.webhook_url)
    return parts._replace(path=WEBHOOK_PREFIX + slug).geturl()


def structure_settings(settings: Settings, record: StructureRecord) -> Settings:
    """The deployment's settings with this structure's bot, admin group, staff, time zone and
    webhook put in."""
    return settings.model_copy(
        update={
            "telegram_bot_token": record.bot_token or "",
            "telegram_bot_username": record.bot_username or "",
            "admin_chat_id": record.admin_chat_id,
            "staff_user_ids": record.staff_user_ids,
            "timezone": record.timezone,
            "webhook_secret": record.webhook_secret or "",
            "webhook_url": structure_webhook_url(settings, record.slug),
        }
    )


async def claim_env_structure(settings: Settings, structure: Structure, database: Database) -> None:
    """Write `.env`'s bot, admin group, staff and time zone into structure 1's row: the `.env`
    settings stay the way to run one structure. Without TELEGRAM_BOT_TOKEN, structure 1 keeps
    no bot (unless `structure add` gave it a configuration of its own)."""
    async with database.registry().transaction() as uow:
        record = await uow.repos.registry.get(DEFAULT_STRUCTURE_ID)
        if record is None:
            raise TenancyError("the structure of .env is missing: run `portail-famille db upgrade`")
        if not settings.telegram_bot_token:
            if record.configuration is None:
                record.bot_token = None
            return
        other = await uow.repos.registry.by_token(settings.telegram_bot_token)
        if other is not None and other.id != record.id:
            raise TenancyError(
                f"TELEGRAM_BOT_TOKEN is the bot of structure {other.slug}: each structure needs "
                "its own bot"
            )
        record.name = structure.name
        record.bot_token = settings.telegram_bot_token
        record.bot_username = settings.telegram_bot_username or record.bot_username
        record.admin_chat_id = settings.admin_chat_id
        record.staff_user_ids = settings.staff_user_ids
        record.timezone = settings.timezone
        record.webhook_secret = settings.webhook_secret or None
        record.configuration = None
        record.enabled = True
        record.disabled_at = None


async def served_structures(
    settings: Settings, database: Database, env_structure: Structure
) -> list[ServedStructure]:
    """Every enabled structure that has a bot, in the order they were added."""
    async with database.registry().unit_of_work(read_only=True) as uow:
        records = await uow.repos.registry.enabled()
    return [_served(settings, database, env_structure, r) for r in records if r.bot_token]


async def open_structure(
    settings: Settings, env_structure: Structure, slug: str | None
) -> ServedStructure:
    """The structure a command acts for, over a new `Database` (the caller disposes it):
    the one of `--structure SLUG`, or the `.env` one when `slug` is None (without reading the
    registry, so that a command on a database not yet migrated works as before). A disabled
    structure is still opened: its data is kept. Unknown: `TenancyError`."""
    database = Database(settings.database_url)
    if slug is None:
        return ServedStructure(DEFAULT_STRUCTURE_ID, "default", settings, env_structure, database)
    try:
        async with database.registry().unit_of_work(read_only=True) as uow:
            record = await uow.repos.registry.by_slug(slug)
        if record is None:
            raise TenancyError(
                f"no structure has the short name {slug!r} (see `portail-famille structure list`)"
            )
        return _served(settings, database, env_structure, record)
    except BaseException:
        await database.dispose()
        raise


def _served(
    settings: Settings, database: Database, env_structure: Structure, record: StructureRecord
) -> ServedStructure:
    if record.id == DEFAULT_STRUCTURE_ID and record.configuration is None:
        return ServedStructure(
            record.id, record.slug, settings, env_structure, database.for_structure(record.id)
        )
    if record.configuration is None:
        raise TenancyError(f"structure {record.slug} has no configuration: add it again")
    return ServedStructure(
        record.id,
        record.slug,
        structure_settings(settings, record),
        parse_configuration(record.configuration, record.slug),
        database.for_structure(record.id),
    )


def runtimes_of(served: Sequence[ServedStructure]) -> list[Runtime]:
    """One runtime per served structure."""
    return [item.runtime() for item in served]
