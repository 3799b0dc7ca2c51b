"""The `portail-famille` command line: run, db upgrade, demo, invite.

Operator messages are in English (the person installing the bot); everything parents and
staff read in Telegram goes through the catalogs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import segno
from telegram import Bot

from bot import commune_cli, import_cli, invoicing_cli, structures_cli
from bot.domain.rules import StructureConfigError
from bot.logging_setup import configure_logging
from bot.runtime import Runtime
from bot.services.demo import load_demo
from bot.services.linking import UnknownFamily, create_invite, invite_link
from bot.services.structure_sync import sync_structure
from bot.settings import Settings, SettingsError, load_settings
from bot.structure import Structure, load_structure
from bot.tenancy import (
    ServedStructure,
    TenancyError,
    claim_env_structure,
    served_structures,
)
from storage.db import Database
from storage.migrate import schema_status, upgrade_async

EXIT_CONFIG = 2
NO_TOKEN_MESSAGE = """TELEGRAM_BOT_TOKEN is not set.

To get a token: in Telegram, open a chat with @BotFather, send /newbot, choose a name and a
username ending in "bot"; BotFather answers with a token such as 123456789:AAE...
Put it in the file .env at the project root (copy .env.example to .env first):

    TELEGRAM_BOT_TOKEN=123456789:AAE...

then run `make run` again."""
NO_WEBHOOK_MESSAGE = """run --webhook needs WEBHOOK_URL and WEBHOOK_SECRET.

WEBHOOK_URL is the public https:// address Telegram posts the updates to (its path is the route
served, /telegram when it has none), e.g. https://bot.example.org/telegram; WEBHOOK_SECRET is a
random string of 1 to 256 characters among A-Z, a-z, 0-9, _ and - (for instance the output of
`openssl rand -hex 32`) that Telegram sends back with every update."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="portail-famille", description="Portail Famille Telegram bot"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser(
        "run",
        help="start the bot (a new SQLite database is created, and the default embedded one gets "
        "the demo); refuses a database whose schema is behind: run `db upgrade` first",
    )
    run_parser.add_argument(
        "--webhook",
        action="store_true",
        help="receive the updates on WEBHOOK_URL (served on LISTEN_ADDRESS:PORT with /healthz "
        "and /metrics) instead of long polling",
    )
    db = sub.add_parser("db", help="database commands")
    db.add_argument(
        "action", choices=["upgrade"], help="apply the migrations (a release step, before `run`)"
    )
    demo = sub.add_parser("demo", help="load the demo structure and families (idempotent)")
    structures_cli.add_structure_option(demo)
    invite = sub.add_parser("invite", help="print a one-time invitation link for a family")
    structures_cli.add_structure_option(invite)
    invite.add_argument("family_number", help="the N° famille")
    invite.add_argument(
        "--qr", type=Path, metavar="FILE.png", help="also write a QR code of the link"
    )
    invoicing_cli.add_parser(sub)
    import_cli.add_parser(sub)
    commune_cli.add_parsers(sub)
    structures_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        structure = load_structure(settings.structure_file)
    except (SettingsError, StructureConfigError) as exc:
        print(f"portail-famille: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "run":
        return run(settings, structure, webhook=args.webhook)
    if args.command == "db":
        asyncio.run(upgrade_async(settings.database_url))
        status = asyncio.run(schema_status(settings.database_url))
        print(f"database is up to date (schema revision {status.current})")
        return 0
    if args.command == "structure":
        return asyncio.run(structures_cli.structure_command(settings, structure, args))
    if args.command == "import" and args.import_action == "template":
        return import_cli.write_template(args.out)

    def on_structure(command: Callable[[ServedStructure], Awaitable[int]]) -> int:
        """The command for the structure of `--structure` (default: the `.env` one)."""
        return asyncio.run(
            structures_cli.on_structure(settings, structure, args.structure, command)
        )

    if args.command == "invoices":
        return on_structure(lambda target: invoicing_cli.issue_month(target, args.month))
    if args.command == "import":
        return on_structure(lambda target: import_cli.import_families(target, args))
    if args.command == "letters":
        return on_structure(lambda target: _letters(target, args))
    if args.command == "export":
        return on_structure(lambda target: commune_cli.export_invoices(target, args))
    if args.command == "demo":
        return on_structure(_demo)
    return on_structure(lambda target: _invite(target, args.family_number, args.qr))


def run(settings: Settings, structure: Structure, *, webhook: bool = False) -> int:
    """Check the database's schema, prepare it, then serve Telegram until stopped: long polling,
    or the webhook with `/healthz` and `/metrics` (bot/webhook.py), for every structure of the
    registry that has a bot (bot/tenancy.py): the `.env` one and those of `structure add`."""
    if webhook and not (settings.webhook_url and settings.webhook_secret):
        print(f"portail-famille: {NO_WEBHOOK_MESSAGE}", file=sys.stderr)
        return EXIT_CONFIG
    refusal = asyncio.run(check_schema(settings))
    if refusal is not None:
        print(f"portail-famille: {refusal}", file=sys.stderr)
        return EXIT_CONFIG
    created = asyncio.run(_prepare(settings, structure, demo="when_empty", migrate=False))
    if created:
        print(f"empty database: demo structure loaded ({created} families)")
    try:
        served = asyncio.run(_structures_to_serve(settings, structure))
    except TenancyError as exc:
        print(f"portail-famille: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not served:
        print(NO_TOKEN_MESSAGE, file=sys.stderr)
        return EXIT_CONFIG
    from bot.app import (  # imported late: heavy, only for run
        ALLOWED_UPDATES,
        HANDLED_UPDATES,
        build_application,
    )
    from bot.deployment import Bot, serve_polling

    database = Database(settings.database_url)
    runtimes = [item.on(database).runtime() for item in served]
    bots = [Bot(build_application(runtime), runtime) for runtime in runtimes]
    first = bots[0]
    if not webhook:
        if "port" in settings.model_fields_set:  # PORT set: /healthz and /metrics beside polling
            from bot.webhook import serve_operations_beside_polling

            serve_operations_beside_polling(first.application, first.runtime)
        if len(bots) == 1:
            first.application.run_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            asyncio.run(serve_polling(bots, allowed_updates=ALLOWED_UPDATES))
        return 0
    from bot.webhook import ListenError, serve_webhook

    others = [(bot.application, bot.runtime) for bot in bots[1:]]
    try:
        asyncio.run(
            serve_webhook(
                first.application, first.runtime, allowed_updates=HANDLED_UPDATES, others=others
            )
        )
    except ListenError as exc:
        print(f"portail-famille: {exc} (LISTEN_ADDRESS, PORT)", file=sys.stderr)
        return 1
    return 0


async def _structures_to_serve(settings: Settings, structure: Structure) -> list[ServedStructure]:
    """Give structure 1 the bot of `.env`, mirror each structure's configuration into its
    tables, and list the structures to serve."""
    database = Database(settings.database_url)
    try:
        await claim_env_structure(settings, structure, database)
        served = await served_structures(settings, database, structure)
        for item in served:
            async with item.database.transaction() as uow:
                await sync_structure(uow, item.structure)
        return served
    finally:
        await database.dispose()


async def check_schema(settings: Settings) -> str | None:
    """None when `run` may start on the database, else why not (the command to run).

    Migrating is a release step (`portail-famille db upgrade`): `run` never changes an existing
    schema, so that workers of the old and the new version never race to migrate it. The one
    exception is a brand-new SQLite database (the newcomer's `make run`, a single machine):
    nothing to lose and nobody else to race, so it is created here.
    """
    try:
        status = await schema_status(settings.database_url)
    except Exception as exc:
        return f"cannot reach the database ({type(exc).__name__}); check DATABASE_URL"
    if status.new and settings.database_url.startswith("sqlite"):
        await upgrade_async(settings.database_url)
        return None
    if status.new:
        return (
            "the database has no schema yet: run `portail-famille db upgrade` first, "
            "then start the bot again"
        )
    if not status.known:
        return (
            f"the database schema is at revision {status.current}, newer than this version of "
            f"portail-famille knows (its latest is {status.head}): run the newer version"
        )
    if status.behind:
        return (
            f"the database schema is behind (revision {status.current}, this version needs "
            f"{status.head}): run `portail-famille db upgrade`, then start the bot again"
        )
    return None


def demo_welcome(settings: Settings) -> bool:
    """Whether an empty database may get the demo families on its own: only the default embedded
    database, the newcomer's `make run`. A database named by DATABASE_URL is a real one."""
    return "database_url" not in settings.model_fields_set


async def _demo(target: ServedStructure) -> int:
    """`portail-famille demo [--structure SLUG]`."""
    created = await _prepare(
        target.settings, target.structure, demo="always", database=target.database
    )
    print(f"demo loaded: {created} new families")
    return 0


async def _prepare(
    settings: Settings,
    structure: Structure,
    *,
    demo: str,
    migrate: bool = True,
    database: Database | None = None,
) -> int:
    """Migrate (unless `migrate=False`: `run` checked the schema instead), mirror the
    structure, and load the demo families; return how many were created.

    `demo="always"` is `portail-famille demo`, said on purpose. `demo="when_empty"` loads them
    only into the default embedded database, and never into one that was ever imported into.
    `database`: the structure's (`--structure`), else the `.env` one's.
    """
    if migrate:
        await upgrade_async(settings.database_url)
    database = database or Database(settings.database_url)
    try:
        async with database.unit_of_work() as uow:
            await sync_structure(uow, structure)
            created = 0
            empty = await uow.repos.families.count() == 0
            if demo == "always" or (
                demo == "when_empty"
                and empty
                and demo_welcome(settings)
                and not await uow.repos.imports.ever_imported()
            ):
                today = Runtime(settings=settings, database=database, structure=structure).today()
                created = await load_demo(uow, structure, today)
            elif demo == "when_empty" and empty:
                print(
                    "the database has no family yet: import the commune's families with "
                    '`portail-famille import families FILE` (see README, "Switching a commune on"), '
                    "or load the demo on purpose with `portail-famille demo`"
                )
            await uow.commit()
        return created
    finally:
        await database.dispose()


async def _invite(target: ServedStructure, family_number: str, qr: Path | None) -> int:
    """Create an invite and print its link (and write its QR code)."""
    settings, database, runtime = target.settings, target.database, target.runtime()
    try:
        username = await bot_username(settings)
        async with database.unit_of_work() as uow:
            invite = await create_invite(
                uow, family_number, runtime.now(), settings.invite_ttl_days
            )
            await uow.commit()
    except UnknownFamily:
        print(f"portail-famille: no family has the number {family_number}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"portail-famille: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        await database.dispose()
    link = invite_link(username, invite.code)
    print(link)
    print(f"valid once, until {invite.expires_at.astimezone(settings.tz):%d/%m/%Y %H:%M}")
    if qr is not None:
        segno.make(link, error="m").save(str(qr), scale=8, border=4)
        print(f"QR code written to {qr}")
    return 0


async def _letters(target: ServedStructure, args: argparse.Namespace) -> int:
    try:
        username = await bot_username(target.settings)
    except ValueError as exc:
        print(f"portail-famille: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    await upgrade_async(target.settings.database_url)
    return await commune_cli.write_letters(target, args, username)


async def bot_username(settings: Settings) -> str:
    """The bot's @username: from TELEGRAM_BOT_USERNAME, or asked to the Bot API."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username.lstrip("@")
    if not settings.telegram_bot_token:
        raise ValueError(
            "set TELEGRAM_BOT_TOKEN (or TELEGRAM_BOT_USERNAME) to build invitation links"
        )
    bot = Bot(
        settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_api_base_file_url,
    )
    async with bot:
        return bot.username
