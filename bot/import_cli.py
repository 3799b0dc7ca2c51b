"""`portail-famille import families FILE` and `portail-famille import template OUT`.

The report is printed in French (it is the staff's); exit codes: 0 done (or a clean dry run),
1 the file has errors (nothing written), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.domain.family_import import template_rows
from bot.i18n import DEFAULT_LANGUAGE, _, use_language
from bot.import_texts import render_report
from bot.services.family_import import ImportOptions, ImportOutcome, apply_import, preview_import
from bot.services.structure_sync import sync_structure
from bot.services.use_case import use_case
from bot.spreadsheets import write_csv, write_xlsx
from bot.structures_cli import add_structure_option
from bot.tenancy import ServedStructure
from storage.migrate import upgrade_async

EXIT_ERRORS = 1
EXIT_USAGE = 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `import families` and `import template` to the command line."""
    parser = sub.add_parser("import", help="import the commune's families from a CSV or .xlsx file")
    actions = parser.add_subparsers(dest="import_action", required=True)
    families = actions.add_parser(
        "families", help="check (default) or apply a file of families, one line per child"
    )
    families.add_argument(
        "file", type=Path, help="the CSV (UTF-8 or Windows-1252, ; or ,) or .xlsx file"
    )
    mode = families.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only print the report (the default)")
    mode.add_argument(
        "--apply",
        action="store_true",
        help="write it all in one transaction (nothing when any line is wrong)",
    )
    families.add_argument(
        "--prune",
        action="store_true",
        help="remove families and children that the file no longer names",
    )
    families.add_argument(
        "--overwrite",
        action="store_true",
        help="take the file's values even where they changed since the last import",
    )
    add_structure_option(families)
    template = actions.add_parser(
        "template", help="write the empty template: the header row and one example line"
    )
    template.add_argument("out", type=Path, help="the file to write (.csv or .xlsx)")


def write_template(out: Path) -> int:
    """Write the template file."""
    headers, example = template_rows()
    content = (
        write_xlsx(headers, [example], title="Familles")
        if out.suffix.lower() == ".xlsx"
        else write_csv(headers, [example])
    )
    out.write_bytes(content)
    print(f"template written to {out} ({len(headers)} columns)")
    return 0


async def import_families(target: ServedStructure, args: argparse.Namespace) -> int:
    """Check or apply the file; print the French report."""
    path: Path = args.file
    if not path.is_file():
        print(f"portail-famille: no such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    content = path.read_bytes()
    await upgrade_async(target.settings.database_url)
    structure, database, runtime = target.structure, target.database, target.runtime()
    options = ImportOptions(prune=args.prune, overwrite=args.overwrite)
    try:
        async with use_case(database) as uow:
            await sync_structure(uow, structure)  # the services the file names must have rows
        today, now = runtime.today(), runtime.now()
        if args.apply:
            report = await apply_import(
                database,
                structure,
                content,
                path.name,
                options,
                today=today,
                now=now,
                actor_id=None,
                actor_kind="system",
                tell_group=True,
            )
        else:
            report = await preview_import(
                database,
                structure,
                content,
                path.name,
                options,
                today=today,
                now=now,
                actor_id=None,
                actor_kind="system",
            )
    finally:
        await database.dispose()
    with use_language(DEFAULT_LANGUAGE):
        print(render_report(report))
        if report.has_errors or report.outcome not in (
            ImportOutcome.PREVIEWED,
            ImportOutcome.APPLIED,
        ):
            return EXIT_ERRORS
        if not args.apply:
            print("\n" + _("Run again with --apply to import it."))
    return 0
