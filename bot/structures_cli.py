"""`portail-famille structure add | list | disable | enable`, and `--structure SLUG`.

    portail-famille structure add FILE.yaml TOKEN [--slug SLUG] [--admin-chat-id ID]
        [--staff-user-ids "1,2"] [--timezone Europe/Paris] [--username NAME]
    portail-famille structure list
    portail-famille structure disable SLUG
    portail-famille structure enable SLUG

Each structure of the registry (bot/tenancy.py) is served by `run` with its own bot, admin
group, staff, time zone and configuration (the YAML given to `add`, kept in the database);
structure 1, `default`, is the one of `.env`. The commands acting on one structure's data
(import, invite, letters, invoices, export, demo) take `--structure SLUG` (default: the `.env`
one) and reach it through `on_structure`. Nothing printed here shows a bot token or a webhook
secret. Operator messages are in English. Exit codes: 0 done, 1 unknown structure, 2 bad
arguments (nothing written).
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy.exc import SQLAlchemyError

from bot.domain.rules import StructureConfigError
from bot.services.structure_sync import sync_structure
from bot.settings import _TOKEN_PATTERN, Settings
from bot.structure import Structure, parse_structure
from bot.tenancy import (
    WEBHOOK_PREFIX,
    ServedStructure,
    TenancyError,
    check_slug,
    new_webhook_secret,
    open_structure,
    structure_webhook_url,
)
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import DEFAULT_STRUCTURE_ID, StructureRecord, utcnow

EXIT_UNKNOWN = 1
EXIT_USAGE = 2
DEFAULT_TIMEZONE = "Europe/Paris"
ENV_SLUG = "default"
_USERNAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,63}$")
_GENERIC_WORDS = frozenset({"mairie", "commune", "ville"})
"""Leading words dropped from a structure's name to make its slug ("Mairie de Riaillé")."""
_LINKING_WORDS = frozenset({"de", "d", "du", "des"})


class UsageError(Exception):
    """A bad argument of `structure add`; nothing was written."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `structure add | list | disable | enable` to the command line."""
    parser = sub.add_parser(
        "structure", help="the structures this deployment serves, each with its own bot"
    )
    actions = parser.add_subparsers(dest="structure_action", required=True)
    add = actions.add_parser(
        "add",
        help="add a structure from its structure file (YAML) and its bot's token, or update the "
        "structure of the same slug",
    )
    add.add_argument("file", type=Path, metavar="FILE.yaml", help="its structure file")
    add.add_argument(
        "token",
        metavar="TOKEN",
        help="its bot's token from @BotFather (- to read it from the standard input)",
    )
    add.add_argument(
        "--slug",
        help="its short name, for the command line and the webhook's path /tg/SLUG (default: "
        "made from the structure's name)",
    )
    add.add_argument(
        "--admin-chat-id", type=int, metavar="ID", help="the chat id of its staff's group"
    )
    add.add_argument(
        "--staff-user-ids",
        metavar='"1,2"',
        help="Telegram user ids that are its staff even outside the group",
    )
    add.add_argument("--timezone", metavar="ZONE", help=f"its time zone ({DEFAULT_TIMEZONE})")
    add.add_argument(
        "--username", metavar="NAME", help="its bot's @username, for the invitation links"
    )
    actions.add_parser("list", help="one line per structure (never a token or a secret)")
    disable = actions.add_parser(
        "disable", help="stop serving a structure from the bot's next start (its data is kept)"
    )
    disable.add_argument("slug", help="its short name")
    enable = actions.add_parser("enable", help="serve a disabled structure again")
    enable.add_argument("slug", help="its short name")


def add_structure_option(parser: argparse.ArgumentParser) -> None:
    """`--structure SLUG` on a command acting on one structure's data."""
    parser.add_argument(
        "--structure",
        metavar="SLUG",
        default=None,
        help="the structure to act for (see `structure list`; default: the one of .env)",
    )


async def on_structure(
    settings: Settings,
    env_structure: Structure,
    slug: str | None,
    command: Callable[[ServedStructure], Awaitable[int]],
) -> int:
    """Run `command` for the structure named by `--structure` (None: the `.env` one): its
    settings, configuration and data; an unknown slug is refused (exit 1), a database without the registry too (exit 2)."""
    try:
        target = await open_structure(settings, env_structure, slug)
    except TenancyError as exc:
        print(f"portail-famille: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    except SQLAlchemyError as exc:
        print(
            f"portail-famille: cannot read the structures ({type(exc).__name__}): check "
            "DATABASE_URL, and run `portail-famille db upgrade`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        return await command(target)
    finally:
        await target.database.dispose()


async def structure_command(
    settings: Settings, env_structure: Structure, args: argparse.Namespace
) -> int:
    """`portail-famille structure ACTION`; returns the exit code."""
    if args.structure_action == "add":
        try:
            return await add_structure(settings, args)
        except UsageError as exc:
            print(f"portail-famille: {exc}", file=sys.stderr)
            return EXIT_USAGE
    await upgrade_async(settings.database_url)
    if args.structure_action == "list":
        return await list_structures(settings, env_structure)
    return await set_enabled(settings, args.slug, enabled=args.structure_action == "enable")


def slug_from_name(name: str) -> str:
    """A short name made from a structure's name: ascii, lower-case, words joined by dashes,
    without a leading "Mairie de" ("Mairie de Riaillé" -> "riaille")."""
    letters = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    )
    words = re.findall(r"[a-z0-9]+", letters.lower())
    if len(words) > 1 and words[0] in _GENERIC_WORDS:
        words = words[1:]
        if len(words) > 1 and words[0] in _LINKING_WORDS:
            words = words[1:]
    return "-".join(words)[:40].strip("-")


def read_configuration(path: Path) -> tuple[str, Structure]:
    """The file's text and the structure it describes; `UsageError` naming what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({exc})") from exc
    try:
        return text, parse_structure(raw)
    except StructureConfigError as exc:
        raise UsageError(f"{path}: {exc}") from exc


def _token(value: str) -> str:
    token = (sys.stdin.readline() if value == "-" else value).strip()
    if not _TOKEN_PATTERN.match(token):
        raise UsageError("TOKEN: expected the form 123456789:ABC... given by @BotFather")
    return token


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"--timezone: unknown time zone {value!r}") from exc
    return value


def _staff_ids(value: str) -> str:
    parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    for part in parts:
        if not part.lstrip("-").isdigit():
            raise UsageError(f"--staff-user-ids: {part!r} is not a Telegram user id (a number)")
    return ",".join(parts)


def _username(value: str) -> str:
    username = value.strip().lstrip("@")
    if not _USERNAME_PATTERN.match(username):
        raise UsageError(f"--username: {value!r} is not a Telegram username")
    return username


def _slug(args: argparse.Namespace, structure: Structure) -> str:
    slug = args.slug if args.slug is not None else slug_from_name(structure.name)
    if not slug:
        raise UsageError(f"cannot make a short name of {structure.name!r}: give --slug")
    try:
        return check_slug(slug)
    except TenancyError as exc:
        raise UsageError(f"--slug {exc}") from exc


async def add_structure(settings: Settings, args: argparse.Namespace) -> int:
    """Add the structure (or update the one of the same slug), then mirror its configuration
    into its tables. Every argument is checked before anything is written."""
    path: Path = args.file
    text, structure = read_configuration(path)
    token = _token(args.token)
    slug = _slug(args, structure)
    timezone = _timezone(args.timezone) if args.timezone is not None else None
    staff = _staff_ids(args.staff_user_ids) if args.staff_user_ids is not None else None
    username = _username(args.username) if args.username is not None else None
    if slug == ENV_SLUG:
        raise UsageError(
            "structure default is the one of .env: set it there (TELEGRAM_BOT_TOKEN, "
            "STRUCTURE_FILE...), or give another --slug"
        )
    if token == settings.telegram_bot_token:
        raise UsageError("TOKEN is the bot of .env's structure (default): each needs its own bot")
    await upgrade_async(settings.database_url)
    database = Database(settings.database_url)
    try:
        async with database.registry().transaction() as uow:
            registry = uow.repos.registry
            record = await registry.by_slug(slug)
            holder = await registry.by_token(token)
            if holder is not None and (record is None or holder.id != record.id):
                raise UsageError(f"TOKEN is already the bot of structure {holder.slug}")
            created = record is None
            if record is None:
                record = await registry.add(
                    StructureRecord(
                        slug=slug,
                        name=structure.name,
                        bot_token=token,
                        webhook_secret=new_webhook_secret(),
                        timezone=DEFAULT_TIMEZONE,
                        staff_user_ids="",
                        configuration=text,
                        enabled=True,
                    )
                )
            record.name = structure.name
            record.configuration = text
            if record.bot_token != token:
                record.bot_token = token
                record.bot_username = None  # another bot: its username is asked again
            if args.admin_chat_id is not None:
                record.admin_chat_id = args.admin_chat_id
            if staff is not None:
                record.staff_user_ids = staff
            if timezone is not None:
                record.timezone = timezone
            if username is not None:
                record.bot_username = username
            if record.webhook_secret is None:
                record.webhook_secret = new_webhook_secret()
            structure_id, enabled = record.id, record.enabled
        async with database.for_structure(structure_id).transaction() as uow:
            await sync_structure(uow, structure)
    finally:
        await database.dispose()
    done = "added" if created else "updated (its configuration, bot and the options given)"
    print(f"structure {structure_id} {done}: {slug}, {structure.name}")
    address = structure_webhook_url(settings, slug)
    print(f"webhook path: {WEBHOOK_PREFIX}{slug}" + (f" ({address})" if address else ""))
    if enabled:
        print("the bot serves it from its next start (restart it if it runs)")
    else:
        print(f"it is disabled: `portail-famille structure enable {slug}` serves it again")
    return 0


def _bot(record: StructureRecord) -> str:
    if record.bot_username:
        return "@" + record.bot_username
    if record.bot_token:
        return "bot " + record.bot_token.split(":", 1)[0]  # the token's public part only
    return "no bot"


async def list_structures(settings: Settings, env_structure: Structure) -> int:
    """One line per structure: id, slug, name, state, bot, admin group, time zone, families."""
    database = Database(settings.database_url)
    try:
        async with database.registry().unit_of_work(read_only=True) as uow:
            records = await uow.repos.registry.all()
        lines = []
        for record in records:
            async with database.for_structure(record.id).unit_of_work(read_only=True) as uow:
                families = await uow.repos.families.count()
            name = record.name
            if record.id == DEFAULT_STRUCTURE_ID and record.configuration is None:
                name = f"{name or env_structure.name} (.env)"
            lines.append(
                "\t".join(
                    [
                        str(record.id),
                        record.slug,
                        name,
                        "enabled" if record.enabled else "disabled",
                        _bot(record),
                        (
                            "no group"
                            if record.admin_chat_id is None
                            else f"group {record.admin_chat_id}"
                        ),
                        record.timezone,
                        f"{families} families",
                    ]
                )
            )
    finally:
        await database.dispose()
    print("\n".join(lines))
    return 0


async def set_enabled(settings: Settings, slug: str, *, enabled: bool) -> int:
    """`structure disable SLUG` / `structure enable SLUG`."""
    database = Database(settings.database_url)
    try:
        async with database.registry().transaction() as uow:
            record = await uow.repos.registry.by_slug(slug)
            if record is None:
                print(
                    f"portail-famille: no structure has the short name {slug!r} "
                    "(see `portail-famille structure list`)",
                    file=sys.stderr,
                )
                return EXIT_UNKNOWN
            if record.id == DEFAULT_STRUCTURE_ID and not enabled:
                print(
                    "portail-famille: structure default is the one of .env, served while "
                    "TELEGRAM_BOT_TOKEN is set there: remove it from .env to stop serving it",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            already = record.enabled == enabled
            record.enabled = enabled
            if not already:
                record.disabled_at = None if enabled else utcnow()
    finally:
        await database.dispose()
    state = "enabled" if enabled else "disabled"
    if already:
        print(f"structure {slug} was already {state}")
    elif enabled:
        print(f"structure {slug} enabled: the bot serves it from its next start")
    else:
        print(
            f"structure {slug} disabled: the bot stops serving it at its next start (restart "
            f"it if it runs); its data is kept (`portail-famille structure enable {slug}`)"
        )
    return 0
