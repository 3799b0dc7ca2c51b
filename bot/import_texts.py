"""The report of a families' import, in the staff's language (French): plain text.

Shared by the command line (`portail-famille import families`) and the admin group's
`/import`. Column names are those of the file; every error says its line, its column and why.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.family_import import (
    COLUMNS,
    SERVICES_KEY,
    Action,
    Conflict,
    ImportProblem,
    Issue,
    Section,
)
from bot.domain.forms import EMPTY, NO, YES
from bot.domain.validators import Problem
from bot.i18n import _, ngettext
from bot.services.family_import import ImportOutcome, ImportReport
from bot.spreadsheets import write_csv

NOTHING = "—"


def problem_text(problem: ImportProblem) -> str:
    """Why a cell (or the file) is refused."""
    detail = problem.detail
    texts = {
        Problem.EMPTY.value: _("This field is required: it cannot be left empty."),
        Problem.TOO_LONG.value: _("This is too long."),
        Problem.PHONE.value: _(
            "This is not a valid phone number. Write it like 06 12 34 56 78, or with its country code "
            "for a foreign number (+44 20 7946 0958)."
        ),
        Problem.EMAIL.value: _(
            "This is not a valid email address (for example jean.dupont@example.fr)."
        ),
        Problem.IBAN.value: _(
            "This is not a valid IBAN. It starts with the country code and two digits, "
            "for example FR76 3000 6000 0112 3456 7890 189."
        ),
        Problem.IBAN_CHECKSUM.value: _(
            "This IBAN has a typing error (its check digits do not match)."
        ),
        Problem.BIC.value: _(
            "This is not a valid BIC: 8 or 11 letters and digits, for example BNPAFRPP."
        ),
        Problem.POSTAL_CODE.value: _("A postal code is made of 5 digits, for example 31400."),
        Problem.CAF_NUMBER.value: _("A CAF allocataire number is made of 7 or 8 digits."),
        Problem.DATE.value: _(
            "This date does not exist or is not written day/month/year (for example 12/06/2014)."
        ),
        Problem.DATE_IN_FUTURE.value: _("This date is in the future."),
        Problem.DATE_TOO_OLD.value: _("This date is too far in the past."),
        Problem.DATE_IN_PAST.value: _("This date is already past."),
        Problem.AMOUNT.value: _("Write an amount in euros, for example 850 or 850,50."),
        Problem.COUNT.value: _("Write a whole number between 0 and 20."),
        Problem.CHOICE.value: _("This value is not one of those expected."),
        Issue.MISSING_COLUMN.value: _(
            "This column is missing: the file must have it (see `portail-famille import template`)."
        ),
        Issue.DUPLICATE_COLUMN.value: _("This column appears twice (also as “{other}”).").format(
            other=detail.get("other", "")
        ),
        Issue.MISSING_NUMBER.value: _(
            "The family number is missing: this line cannot be attached to a family."
        ),
        Issue.BAD_NUMBER.value: _(
            "A family number is made of letters and digits (32 at most), without spaces."
        ),
        Issue.REQUIRED.value: _("This field is required: it cannot be left empty."),
        Issue.CHOICE.value: _("Expected one of: {allowed}.").format(
            allowed=detail.get("allowed", "")
        ),
        Issue.INCONSISTENT.value: _(
            "Line {line} of the same family says “{other}”: the lines of one family must agree."
        ).format(line=detail.get("other_line", "?"), other=detail.get("other", "")),
        Issue.DUPLICATE_CHILD.value: _(
            "This child (same name and date of birth) is already on line {line} of this family."
        ).format(line=detail.get("other_line", "?")),
        Issue.UNKNOWN_SERVICE.value: _(
            "The service “{service}” is not in the structure file (known: {known})."
        ).format(service=detail.get("service", ""), known=detail.get("known", "")),
        Issue.BAD_WEEKDAY.value: _(
            "“{day}” is not a day of the week (write lun, mar, mer, jeu, ven…)."
        ).format(day=detail.get("day", "")),
        Issue.DAY_NOT_RUN.value: _("The service {service} does not run on “{day}”.").format(
            service=detail.get("service", ""), day=detail.get("day", "")
        ),
        Issue.SERVICES_SYNTAX.value: _(
            "Write the service codes separated by commas, each followed by its days in brackets if need be: "
            "cantine (lun mar jeu ven), garderie_matin."
        ),
    }
    return texts.get(problem.code, problem.code)


def table_error_text(code: str) -> str:
    """Why the file could not be read at all."""
    return {
        "empty": _("The file is empty: it needs a header row and one line per child."),
        "too_big": _("The file has too many lines (100,000 at most)."),
    }.get(
        code, _("The file cannot be read: send a CSV (separated by ; or ,) or an Excel .xlsx file.")
    )


def where(problem: ImportProblem) -> str:
    """ "Line 12, column “Téléphone portable”"."""
    if problem.line is not None and problem.column:
        return _("Line {line}, column “{column}”").format(line=problem.line, column=problem.column)
    if problem.line is not None:
        return _("Line {line}").format(line=problem.line)
    return _("Column “{column}”").format(column=problem.column or "?")


def problem_line(problem: ImportProblem) -> str:
    """One error, with its place, its value and why."""
    place = where(problem)
    if problem.value:
        place = _("{place} (“{value}”)").format(place=place, value=problem.value)
    return _("{place}: {why}").format(place=place, why=problem_text(problem))


def _header(section: Section, key: str) -> str:
    if key == "child":
        return _("child")
    column = next((c for c in COLUMNS if c.section is section and c.key == key), None)
    return column.header if column is not None else key


def _shown(section: Section, key: str, value: str | None) -> str:
    if value is None or value == EMPTY:
        return NOTHING
    column = next((c for c in COLUMNS if c.section is section and c.key == key), None)
    if (
        column is not None
        and column.field is not None
        and column.field.sensitive
        and len(value) > 4
    ):
        return "•" * 4 + value[-4:]
    if value == YES:
        return _("yes")
    if value == NO:
        return _("no")
    return value


def conflict_line(conflict: Conflict) -> str:
    """A value changed since the last import, and what the import does with it."""
    who = f"{conflict.child} — " if conflict.child else ""
    if conflict.key == SERVICES_KEY:
        what = _("enrolled in {service} since the last import, not in the file").format(
            service=conflict.current
        )
    elif conflict.key == "child":
        what = _("child added since the last import, not in the file")
    else:
        what = _("{column}: now “{current}”, file “{file}”, last import “{imported}”").format(
            column=_header(conflict.section, conflict.key),
            current=_shown(conflict.section, conflict.key, conflict.current),
            file=_shown(conflict.section, conflict.key, conflict.file),
            imported=_shown(conflict.section, conflict.key, conflict.imported),
        )
    verdict = (
        _("the file's value is taken (--overwrite)")
        if conflict.overwritten
        else _("the current value is kept")
    )
    return who + _("{what}: {verdict}").format(what=what, verdict=verdict)


def summary_lines(report: ImportReport) -> list[str]:
    """Title, the file as read, the counts."""
    counts = report.counts
    if report.outcome is ImportOutcome.APPLIED:
        title = _("Import of {source}: applied").format(source=report.source)
    elif report.outcome is ImportOutcome.PREVIEWED:
        title = _("Import of {source}: dry run, nothing was written").format(source=report.source)
    else:
        title = _("Import of {source}: nothing was written").format(source=report.source)
    lines = [title]
    if report.table is not None:
        encoding = {"utf-8": "UTF-8", "windows-1252": "Windows-1252", "xlsx": "Excel (.xlsx)"}[
            report.table.encoding
        ]
        lines.append(
            _("File read: {lines} line(s), {encoding}{separator}.").format(
                lines=counts.get("lines", 0),
                encoding=encoding,
                separator=_(", separator “{sep}”").format(
                    sep=report.table.delimiter.replace("\t", "tab")
                )
                if report.table.delimiter
                else "",
            )
        )
    if report.parsed is not None and report.parsed.ignored_headers:
        lines.append(
            _("Columns ignored (unknown): {columns}.").format(
                columns=", ".join(report.parsed.ignored_headers)
            )
        )
    if report.plan is not None:
        done = report.outcome is ImportOutcome.APPLIED
        lines.append(
            (
                _("Families: {created} created, {updated} updated, {unchanged} unchanged.")
                if done
                else _("Families: {created} to create, {updated} to update, {unchanged} unchanged.")
            ).format(
                created=counts["created"], updated=counts["updated"], unchanged=counts["unchanged"]
            )
        )
        lines.append(
            (
                _("Children: {created} created, {updated} updated, {unchanged} unchanged.")
                if done
                else _("Children: {created} to create, {updated} to update, {unchanged} unchanged.")
            ).format(
                created=counts["children_created"],
                updated=counts["children_updated"],
                unchanged=counts["children_unchanged"],
            )
        )
    return lines


def report_lines(report: ImportReport) -> list[str]:
    """The whole report."""
    lines = summary_lines(report)
    if report.outcome is ImportOutcome.CHANGED:
        lines.append(
            _("This file is not the one whose report you confirmed: send it again with /import.")
        )
        return lines
    if report.table_error is not None:
        lines += ["", "❌ " + table_error_text(report.table_error)]
        return lines
    parsed, plan = report.parsed, report.plan
    if parsed is not None and parsed.problems:
        lines += [
            "",
            "❌ "
            + ngettext(
                "{count} error: nothing can be imported until it is corrected.",
                "{count} errors: nothing can be imported until they are corrected.",
                len(parsed.problems),
            ).format(count=len(parsed.problems)),
        ]
        lines += [problem_line(problem) for problem in parsed.problems]
        return lines
    if plan is None:
        return lines
    if plan.conflicts:
        lines += [
            "",
            "⚠️ " + _("Changed since the last import (by a parent's accepted request or by staff):"),
        ]
        for family, conflict in plan.conflicts:
            lines.append(
                _("Family {number} ({name}): {conflict}").format(
                    number=family.record.number,
                    name=family.record.name(),
                    conflict=conflict_line(conflict),
                )
            )
    done = report.outcome is ImportOutcome.APPLIED
    updates = [family for family in plan.families if family.action is Action.UPDATE]
    if updates:
        lines += ["", _("Updates:")]
        for family in updates:
            lines.append(
                _("Family {number} ({name}):").format(
                    number=family.record.number, name=family.record.name()
                )
            )
            lines += [
                "  " + _change(c.section, c.key, c.old, c.new, c.child) for c in family.changes
            ]
            for child in family.children:
                if child.action is Action.CREATE:
                    lines.append("  " + _("new child: {name}").format(name=child.record.label))
                elif child.action is Action.UPDATE:
                    lines += [
                        "  " + _change(c.section, c.key, c.old, c.new, c.child)
                        for c in child.changes
                    ]
                    lines += [
                        "  "
                        + _("{child} — enrolled in {service}").format(
                            child=child.record.label, service=code
                        )
                        for code in child.add_services
                    ]
                    lines += [
                        "  "
                        + _("{child} — enrolment in {service} ended").format(
                            child=child.record.label, service=code
                        )
                        for code in child.end_services
                    ]
                    lines += [
                        "  "
                        + _("{child} — {service}: regular days {days}").format(
                            child=child.record.label, service=code, days=days or NOTHING
                        )
                        for code, days in child.set_weekdays.items()
                    ]
            removed = _("child removed: {name}") if done else _("child to remove: {name}")
            lines += ["  " + removed.format(name=name) for _id, name in family.remove_children]
    kept = [(family, name) for family in plan.families for _id, name in family.kept_children]
    if kept:
        lines += [
            "",
            _("Children on record but not in the file, kept (use --prune to remove them):"),
        ]
        lines += [
            _("Family {number}: {name}").format(number=family.record.number, name=name)
            for family, name in kept
        ]
    if plan.removals:
        lines.append("")
        if plan.prune:
            lines.append(
                _("Families on record but not in the file, removed (--prune):")
                if done
                else _("Families on record but not in the file, to remove (--prune):")
            )
            lines += [
                _("Family {number} ({name})").format(number=r.number, name=r.name)
                for r in plan.removals
                if not r.kept
            ]
            kept_families = [r for r in plan.removals if r.kept]
            if kept_families:
                lines.append(_("Kept all the same, because they have invoices or payments:"))
                lines += [
                    _("Family {number} ({name})").format(number=r.number, name=r.name)
                    for r in kept_families
                ]
        else:
            lines.append(
                ngettext(
                    "{count} family on record is not in the file: kept (use --prune to remove it).",
                    "{count} families on record are not in the file: kept (use --prune to remove them).",
                    len(plan.removals),
                ).format(count=len(plan.removals))
            )
    return lines


def _change(section: Section, key: str, old: str, new: str, child: str | None) -> str:
    who = f"{child} — " if child else ""
    return who + _("{column}: {old} → {new}").format(
        column=_header(section, key), old=_shown(section, key, old), new=_shown(section, key, new)
    )


def render_report(report: ImportReport) -> str:
    """The whole report as text."""
    return "\n".join(report_lines(report))


def errors_csv(problems: Sequence[ImportProblem]) -> bytes:
    """The errors as a CSV to open next to the file (cells made safe for spreadsheets)."""
    return write_csv(
        [_("Line"), _("Column"), _("Value"), _("Explanation")],
        [
            [problem.line or "", problem.column or "", problem.value, problem_text(problem)]
            for problem in problems
        ],
    )
