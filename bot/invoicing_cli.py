"""`portail-famille invoices issue --month YYYY-MM`: the month's invoices from the command line.

The same use case as the staff's /facturer: invoices are created once per family, régie and
month, then every linked account is told (when TELEGRAM_BOT_TOKEN is set; otherwise the
notices wait in the database for the next run). Operator messages are in English.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from telegram import Bot

from bot.domain.billing import parse_month
from bot.runtime import Runtime
from bot.services.billing import IssueOutcome, MissingTariff, issue_invoices
from bot.settings import Settings
from bot.structure import Structure
from storage.db import Database

EXIT_CONFIG = 2


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `invoices issue --month YYYY-MM` to the command line."""
    invoices = sub.add_parser("invoices", help="invoices: issue a month's invoices")
    invoices.add_argument("action", choices=["issue"], help="issue the invoices of a finished month")
    invoices.add_argument("--month", required=True, metavar="YYYY-MM", help="the month to invoice, e.g. 2026-11")


async def issue_month(settings: Settings, structure: Structure, month: str) -> int:
    """Issue the month's invoices and tell the families; returns the exit code."""
    period = parse_month(month)
    if period is None:
        print(f"portail-famille: --month {month!r} is not of the form YYYY-MM", file=sys.stderr)
        return EXIT_CONFIG
    database = Database(settings.database_url)
    runtime = Runtime(settings=settings, database=database, structure=structure)
    try:
        try:
            async with database.unit_of_work() as uow:
                result = await issue_invoices(
                    uow, structure, period, today=runtime.today(), now=runtime.now(),
                    actor_telegram_id=None, actor_kind="system",
                )
                await uow.commit()
        except MissingTariff as exc:
            print(f"portail-famille: service {exc.args[0]} has no tariffs in the structure file; nothing issued",
                  file=sys.stderr)
            return EXIT_CONFIG
        if result.outcome is IssueOutcome.MONTH_NOT_OVER:
            print(f"portail-famille: {period.code} is not over yet; invoice it from "
                  f"{period.end + dt.timedelta(days=1):%Y-%m-%d}", file=sys.stderr)
            return 1
        numbers = f" ({result.issued[0].number} to {result.issued[-1].number})" if result.issued else ""
        print(f"{period.code}: {len(result.issued)} invoice(s) issued{numbers}, total {result.total} EUR; "
              f"{result.already_issued} already issued, unchanged")
        if not settings.telegram_bot_token:
            print("TELEGRAM_BOT_TOKEN is not set: families will be told at the next run with a token")
            return 0
        from conversations.invoices import send_invoice_notices  # imported late: Telegram texts

        bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url,
                  base_file_url=settings.telegram_api_base_file_url)
        async with bot:
            report = await send_invoice_notices(bot, runtime)
        print(f"families told: {report.sent} message(s) sent, {report.blocked} blocked account(s) skipped, "
              f"{report.failed} to retry")
        return 0
    finally:
        await database.dispose()
