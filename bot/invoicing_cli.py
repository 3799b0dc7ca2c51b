"""`portail-famille invoices issue --month YYYY-MM`: the month's invoices from the command line.

The same use case as the staff's /facturer: invoices are created once per family, régie and
month, and a "new invoice" message to every linked account is queued in the outbox in the same
transaction; the running bot sends them (or sends them when it starts). Operator messages are
in English.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.domain.billing import parse_month
from bot.services.billing import IssueOutcome, MissingTariff, issue_invoices
from bot.structures_cli import add_structure_option
from bot.tenancy import ServedStructure

EXIT_CONFIG = 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `invoices issue --month YYYY-MM` to the command line."""
    invoices = sub.add_parser("invoices", help="invoices: issue a month's invoices")
    invoices.add_argument(
        "action", choices=["issue"], help="issue the invoices of a finished month"
    )
    invoices.add_argument(
        "--month", required=True, metavar="YYYY-MM", help="the month to invoice, e.g. 2026-11"
    )
    add_structure_option(invoices)


async def issue_month(target: ServedStructure, month: str) -> int:
    """Issue the month's invoices and tell the families; returns the exit code."""
    period = parse_month(month)
    if period is None:
        print(f"portail-famille: --month {month!r} is not of the form YYYY-MM", file=sys.stderr)
        return EXIT_CONFIG
    structure, database, runtime = target.structure, target.database, target.runtime()
    try:
        try:
            result = await issue_invoices(
                database,
                structure,
                period,
                today=runtime.today(),
                now=runtime.now(),
                actor_telegram_id=None,
                actor_kind="system",
            )
        except MissingTariff as exc:
            print(
                f"portail-famille: service {exc.args[0]} has no tariffs in the structure file; nothing issued",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        if result.outcome is IssueOutcome.MONTH_NOT_OVER:
            print(
                f"portail-famille: {period.code} is not over yet; invoice it from "
                f"{period.end + dt.timedelta(days=1):%Y-%m-%d}",
                file=sys.stderr,
            )
            return 1
        numbers = (
            f" ({result.issued[0].number} to {result.issued[-1].number})" if result.issued else ""
        )
        print(
            f"{period.code}: {len(result.issued)} invoice(s) issued{numbers}, total {result.total} EUR; "
            f"{result.already_issued} already issued, unchanged"
        )
        print(
            f"families told: {result.notices} message(s) queued; the bot sends them (at once if it runs, else when it starts)"
        )
        return 0
    finally:
        await database.dispose()
