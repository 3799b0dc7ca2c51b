"""`portail-famille letters` and `portail-famille export invoices`: printing and accounting.

    portail-famille letters --out lettres.pdf [--all | --unlinked] [--family N ...]
    portail-famille export invoices --month YYYY-MM [--out-dir DIR]

Operator messages are in English; the letters and the CSV files are French documents.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.accounts_csv import invoices_csv, invoices_filename, payments_csv, payments_filename
from bot.domain.billing import parse_month
from bot.i18n import DEFAULT_LANGUAGE, use_language
from bot.letters import build_letters_pdf
from bot.services.accounts_export import month_export
from bot.services.invitation_letters import Selection, issue_letters
from bot.structures_cli import add_structure_option
from bot.tenancy import ServedStructure

EXIT_CONFIG = 2


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `letters` and `export invoices` to the command line."""
    letters = sub.add_parser(
        "letters", help="the invitation letters as one PDF, one A4 page per family"
    )
    letters.add_argument(
        "--out", type=Path, required=True, metavar="FILE.pdf", help="the PDF to write"
    )
    which = letters.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every family")
    which.add_argument(
        "--unlinked", action="store_true", help="families nobody has linked yet (the default)"
    )
    letters.add_argument(
        "--family",
        action="append",
        default=[],
        metavar="N",
        help="only this N° famille (repeatable)",
    )
    add_structure_option(letters)
    export = sub.add_parser("export", help="exports for the accounts")
    export.add_argument(
        "what", choices=["invoices"], help="the month's invoices and payments as CSV"
    )
    export.add_argument("--month", required=True, metavar="YYYY-MM", help="the month, e.g. 2026-11")
    export.add_argument(
        "--out-dir",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="where to write the two files",
    )
    add_structure_option(export)


async def write_letters(target: ServedStructure, args: argparse.Namespace, username: str) -> int:
    """Issue the invitations and write the PDF."""
    selection = (
        Selection.NAMED
        if args.family and not args.all and not args.unlinked
        else (Selection.ALL if args.all else Selection.UNLINKED)
    )
    settings, structure, database = target.settings, target.structure, target.database
    runtime = target.runtime()
    try:
        batch = await issue_letters(
            database,
            selection=selection,
            numbers=args.family,
            bot_username=username,
            now=runtime.now(),
            tz=settings.tz,
            ttl_days=settings.invite_ttl_days,
            actor_id=None,
            actor_kind="system",
            tell_group=True,
        )
    finally:
        await database.dispose()
    for number in batch.unknown:
        print(f"portail-famille: no family has the number {number}", file=sys.stderr)
    if selection is not Selection.NAMED and args.family:
        print("portail-famille: --family is ignored with --all/--unlinked", file=sys.stderr)
    if not batch.letters:
        print("no family to write to: no letter written")
        return 1 if batch.unknown else 0
    args.out.write_bytes(build_letters_pdf(batch.letters, structure, today=runtime.today()))
    print(
        f"{len(batch.letters)} letter(s) written to {args.out}, valid until {batch.letters[0].expires_on:%d/%m/%Y}"
    )
    if batch.retired:
        print(f"{batch.retired} earlier invitation(s) of these families no longer work")
    return 1 if batch.unknown else 0


async def export_invoices(target: ServedStructure, args: argparse.Namespace) -> int:
    """Write factures-YYYY-MM.csv and reglements-YYYY-MM.csv."""
    period = parse_month(args.month)
    if period is None:
        print(
            f"portail-famille: --month {args.month!r} is not of the form YYYY-MM", file=sys.stderr
        )
        return EXIT_CONFIG
    database, runtime = target.database, target.runtime()
    try:
        export = await month_export(
            database, period, now=runtime.now(), actor_id=None, actor_kind="system"
        )
    finally:
        await database.dispose()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with use_language(DEFAULT_LANGUAGE):
        (args.out_dir / invoices_filename(export)).write_bytes(invoices_csv(export))
        (args.out_dir / payments_filename(export)).write_bytes(payments_csv(export))
    print(
        f"{period.code}: {len(export.invoices)} invoice(s), total {export.invoiced} EUR -> "
        f"{args.out_dir / invoices_filename(export)}"
    )
    print(
        f"{period.code}: {len(export.payments)} payment(s), total {export.paid} EUR -> "
        f"{args.out_dir / payments_filename(export)}"
    )
    return 0
