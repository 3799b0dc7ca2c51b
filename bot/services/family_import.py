"""Importing the commune's families: check a file (dry run), then apply it in one transaction.

The same use cases serve `portail-famille import families FILE` and the staff's `/import` in
the admin group. A dry run writes nothing but its audit row. Applying reads the file again,
checks it again, and writes everything in one transaction, or nothing when any line is wrong
(or, from the group, when the file is not the one whose report was confirmed). Every run is
audited with who, when and the counts; an applied import is also recorded in
`family_imports`, which keeps the demo out of that database for good, and leaves on each
family a snapshot of what it set (see `bot.domain.family_import`). The regular contracts it
stores get their "régulier" days in the same transaction, up to the rolling horizon of
`bot.services.attendance.write_contract_days` (the daily job writes the later ones).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain.family_import import (
    Action,
    ExistingChild,
    ExistingFamily,
    FamilyPlan,
    ImportPlan,
    ParsedFile,
    Section,
    parse_rows,
    plan_import,
    record_values,
    snapshot_of,
    typed_values,
)
from bot.domain.model import GuardianRole
from bot.services.attendance import cancel_dropped_days, write_contract_days
from bot.services.outbox import tell_staff
from bot.services.staff_audit import audit_staff
from bot.services.use_case import use_case
from bot.spreadsheets import Table, TableError, read_table
from bot.structure import Structure
from storage.db import Database, UnitOfWork
from storage.models import Child, Enrolment, Family, FamilyChild, FamilyImport, Guardian

ACTION_PREVIEW = "import.preview"
ACTION_APPLY = "import.apply"
TEMPLATE_APPLIED = "import.applied"
"""The staff group is told of an import applied from the command line."""


class ImportOutcome(StrEnum):
    """What became of an import run."""

    PREVIEWED = "previewed"
    APPLIED = "applied"
    REFUSED = "refused"
    """The file has errors: nothing was written."""
    UNREADABLE = "unreadable"
    CHANGED = "changed"
    """The file is not the one whose report was confirmed."""


@dataclass(frozen=True)
class ImportOptions:
    """--prune (remove what the file no longer names) and --overwrite (win the conflicts)."""

    prune: bool = False
    overwrite: bool = False


@dataclass(frozen=True)
class ImportReport:
    """Everything a run found and (when applied) did."""

    outcome: ImportOutcome
    source: str
    digest: str
    options: ImportOptions
    table: Table | None = None
    table_error: str | None = None
    parsed: ParsedFile | None = None
    plan: ImportPlan | None = None
    import_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        """Whether the file cannot be applied as it is."""
        return self.table_error is not None or (
            self.parsed is not None and bool(self.parsed.problems)
        )


def file_digest(content: bytes) -> str:
    """The SHA-256 of a file, to know it is the same file."""
    return hashlib.sha256(content).hexdigest()


async def preview_import(
    db: Database,
    structure: Structure,
    content: bytes,
    source: str,
    options: ImportOptions = ImportOptions(),
    *,
    today: dt.date,
    now: dt.datetime,
    actor_id: int | None,
    actor_kind: str = "staff",
) -> ImportReport:
    """The dry run: what the import would do, and every error of the file; writes only the audit."""
    read = await asyncio.to_thread(
        read_file, structure, content, source, options, today
    )  # before the transaction
    async with use_case(db) as uow:
        report = await _examine(uow, structure, content, source, options, today, read)
        _audit(
            uow,
            ACTION_PREVIEW,
            report,
            actor_id,
            actor_kind,
            now,
            "ok" if report.table is not None else "refused",
        )
    return report


async def apply_import(
    db: Database,
    structure: Structure,
    content: bytes,
    source: str,
    options: ImportOptions = ImportOptions(),
    *,
    today: dt.date,
    now: dt.datetime,
    actor_id: int | None,
    actor_kind: str = "staff",
    expected_digest: str | None = None,
    tell_group: bool = False,
) -> ImportReport:
    """Apply the file in one transaction, or nothing when it has any error (see the module doc).

    `tell_group` queues a notice to the staff group (for an import made from the command line).
    """
    read = await asyncio.to_thread(
        read_file, structure, content, source, options, today
    )  # before the transaction
    try:
        async with use_case(db) as uow:
            report = await _examine(uow, structure, content, source, options, today, read)
            if expected_digest is not None and report.digest != expected_digest:
                report = _with(report, ImportOutcome.CHANGED)
            elif report.table is None:
                report = _with(report, ImportOutcome.UNREADABLE)
            elif report.has_errors:
                report = _with(report, ImportOutcome.REFUSED)
            if report.outcome is not ImportOutcome.PREVIEWED:
                _audit(uow, ACTION_APPLY, report, actor_id, actor_kind, now, "refused")
                return report
            assert report.plan is not None
            row = await uow.repos.imports.add_import(
                FamilyImport(
                    at=now,
                    actor_telegram_id=actor_id,
                    actor_kind=actor_kind,
                    source=source[:200],
                    digest=report.digest,
                    options=_options(options),
                    counts=report.counts,
                )
            )
            await _write(
                uow,
                report.plan,
                structure,
                row.id,
                today,
                now,
                actor_id=actor_id,
                actor_kind=actor_kind,
            )
            report = ImportReport(
                ImportOutcome.APPLIED,
                report.source,
                report.digest,
                options,
                report.table,
                None,
                report.parsed,
                report.plan,
                row.id,
                report.counts,
            )
            _audit(uow, ACTION_APPLY, report, actor_id, actor_kind, now, "ok")
            if tell_group:
                await tell_staff(
                    uow,
                    TEMPLATE_APPLIED,
                    {"source": source[:200], "counts": report.counts},
                    now=now,
                )
            return report
    except Exception:
        async with use_case(db) as uow:
            audit_staff(uow, actor_id, ACTION_APPLY, now=now, outcome="failed", target=source[:120])
        raise


def _with(report: ImportReport, outcome: ImportOutcome) -> ImportReport:
    return ImportReport(
        outcome,
        report.source,
        report.digest,
        report.options,
        report.table,
        report.table_error,
        report.parsed,
        report.plan,
        None,
        report.counts,
    )


def _options(options: ImportOptions) -> dict[str, bool]:
    return {"prune": options.prune, "overwrite": options.overwrite}


def _audit(
    uow: UnitOfWork,
    action: str,
    report: ImportReport,
    actor_id: int | None,
    actor_kind: str,
    now: dt.datetime,
    outcome: str,
) -> None:
    details: dict[str, Any] = {
        "source": report.source[:120],
        "digest": report.digest,
        "result": report.outcome.value,
        **_options(report.options),
        **report.counts,
    }
    uow.repos.audit.record(
        action=action,
        outcome=outcome,
        actor_telegram_id=actor_id,
        actor_kind=actor_kind,
        target=report.source[:120],
        details=details,
        at=now,
    )


# --- examining the file ----------------------------------------------------------------------


def read_file(
    structure: Structure, content: bytes, source: str, options: ImportOptions, today: dt.date
) -> ImportReport:
    """Read and check the file (CPU only, no database): the report without its plan."""
    digest = file_digest(content)
    try:
        table = read_table(content, source)
    except TableError as exc:
        return ImportReport(
            ImportOutcome.PREVIEWED,
            source,
            digest,
            options,
            table_error=exc.code,
            counts={"errors": 1},
        )
    runs_on = {service.code: service.rules.schedule.weekdays for service in structure.services}
    parsed = parse_rows(
        table.headers, [(row.line, row.cells) for row in table.rows], today=today, runs_on=runs_on
    )
    return ImportReport(
        ImportOutcome.PREVIEWED,
        source,
        digest,
        options,
        table,
        None,
        parsed,
        None,
        None,
        _counts(parsed, None),
    )


async def _examine(
    uow: UnitOfWork,
    structure: Structure,
    content: bytes,
    source: str,
    options: ImportOptions,
    today: dt.date,
    read: ImportReport | None = None,
) -> ImportReport:
    report = read or read_file(structure, content, source, options, today)
    if report.parsed is None or report.parsed.problems:
        return report
    parsed = report.parsed
    plan = plan_import(
        parsed, await _existing(uow, today), prune=options.prune, overwrite=options.overwrite
    )
    return ImportReport(
        ImportOutcome.PREVIEWED,
        source,
        report.digest,
        options,
        report.table,
        None,
        parsed,
        plan,
        None,
        _counts(parsed, plan),
    )


def _counts(parsed: ParsedFile, plan: ImportPlan | None) -> dict[str, int]:
    counts = {
        "lines": parsed.lines,
        "families": len(parsed.families),
        "errors": len(parsed.problems),
    }
    if plan is not None:
        counts.update(
            created=plan.count(Action.CREATE),
            updated=plan.count(Action.UPDATE),
            unchanged=plan.count(Action.UNCHANGED),
            children_created=plan.count_children(Action.CREATE),
            children_updated=plan.count_children(Action.UPDATE),
            children_unchanged=plan.count_children(Action.UNCHANGED),
            conflicts=len(plan.conflicts),
            removed=sum(1 for r in plan.removals if plan.prune and not r.kept),
            children_removed=sum(len(f.remove_children) for f in plan.families),
        )
    return counts


async def _existing(uow: UnitOfWork, today: dt.date) -> dict[str, ExistingFamily]:
    repo = uow.repos.imports
    children = await repo.children_by_family()
    enrolments = await repo.current_enrolments(today)
    snapshots = await repo.snapshots()
    with_accounts = await repo.families_with_accounts()
    result: dict[str, ExistingFamily] = {}
    for family in await repo.families():
        responsable = family.guardian(GuardianRole.RESPONSABLE)
        conjoint = family.guardian(GuardianRole.CONJOINT)
        snapshot = snapshots.get(family.id)
        result[family.number] = ExistingFamily(
            family_id=family.id,
            number=family.number,
            name=" ".join(p for p in (responsable.last_name, responsable.first_name) if p)
            if responsable
            else "",
            sections={
                Section.FAMILY: record_values(Section.FAMILY, family),
                Section.RESPONSABLE: record_values(Section.RESPONSABLE, responsable),
                Section.CONJOINT: record_values(Section.CONJOINT, conjoint),
            },
            has_conjoint=conjoint is not None,
            children=tuple(
                ExistingChild(
                    child.id,
                    record_values(Section.CHILD, child),
                    {
                        code: enrolment.regular_weekdays
                        for code, enrolment in enrolments.get((family.id, child.id), [])
                    },
                )
                for child in children.get(family.id, [])
            ),
            snapshot=snapshot.values if snapshot is not None else None,
            has_accounts=family.id in with_accounts,
        )
    return result


# --- writing ---------------------------------------------------------------------------------


def school_year_start(today: dt.date) -> dt.date:
    """1 September of the current school year: imported enrolments start then."""
    return dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)


async def _write(
    uow: UnitOfWork,
    plan: ImportPlan,
    structure: Structure,
    import_id: int,
    today: dt.date,
    now: dt.datetime,
    *,
    actor_id: int | None = None,
    actor_kind: str = "staff",
) -> None:
    repo = uow.repos.imports
    service_ids = {service.code: service.id for service in await uow.repos.structure.services()}
    families = {family.id: family for family in await repo.families()}
    children = {
        child.id: child for items in (await repo.children_by_family()).values() for child in items
    }
    enrolments = await repo.current_enrolments(today)
    starts_on = school_year_start(today)

    created: list[tuple[FamilyPlan, Family]] = []
    new_children: list[tuple[FamilyPlan, Any, Child]] = []
    for family_plan in plan.families:
        record = family_plan.record
        if family_plan.action is Action.CREATE:
            family = Family(
                number=record.number,
                **typed_values(Section.FAMILY, record.sections[Section.FAMILY]),
            )
            family.guardians = [
                _guardian(GuardianRole.RESPONSABLE, record.sections[Section.RESPONSABLE])
            ]
            if family_plan.create_conjoint:
                family.guardians.append(
                    _guardian(GuardianRole.CONJOINT, record.sections[Section.CONJOINT])
                )
            repo.add(family)
            created.append((family_plan, family))
        elif family_plan.action is Action.UPDATE:
            assert family_plan.family_id is not None  # the plan updates a family it found
            family = families[family_plan.family_id]
            _update_family(family, family_plan)
        for child_plan in family_plan.children:
            if child_plan.action is Action.CREATE:
                child = Child(**typed_values(Section.CHILD, child_plan.record.values))
                repo.add(child)
                new_children.append((family_plan, child_plan, child))
            elif child_plan.action is Action.UPDATE:
                assert child_plan.child_id is not None  # the plan updates a child it found
                child = children[child_plan.child_id]
                for change in child_plan.changes:
                    setattr(
                        child,
                        change.key,
                        typed_values(Section.CHILD, {change.key: change.new})[change.key],
                    )
    await repo.flush()

    family_ids = {id(plan_): family.id for plan_, family in created}
    links, rows = [], []
    changed: list[Enrolment] = []
    for family_plan, child_plan, child in new_children:
        family_id = family_plan.family_id or family_ids[id(family_plan)]
        links.append(FamilyChild(family_id=family_id, child_id=child.id))
        child_plan.child_id = child.id
        rows += _enrolments(family_id, child.id, child_plan.add_services, service_ids, starts_on)
    for family_plan in plan.families:
        family_id = family_plan.family_id or family_ids[id(family_plan)]
        for child_plan in family_plan.children:
            if child_plan.action is not Action.UPDATE or child_plan.child_id is None:
                continue
            rows += _enrolments(
                family_id,
                child_plan.child_id,
                child_plan.add_services,
                service_ids,
                max(starts_on, today),
            )
            current = dict(enrolments.get((family_id, child_plan.child_id), []))
            for code, days in child_plan.set_weekdays.items():
                if code in current:
                    current[code].regular_weekdays = days
                    changed.append(current[code])
            await repo.end_enrolments(
                family_id,
                child_plan.child_id,
                child_plan.end_services,
                today - dt.timedelta(days=1),
            )
        for child_id, _label in family_plan.remove_children:
            await repo.unlink_child(family_id, child_id, today)
    repo.add_all(links + rows)
    await repo.flush()
    # The contracts' "régulier" days, up to the rolling horizon (the daily job writes on).
    for enrolment in changed:
        await cancel_dropped_days(
            uow, enrolment, today=today, now=now, actor_id=actor_id, actor_kind=actor_kind
        )
    await write_contract_days(
        uow,
        structure,
        await uow.repos.attendance.contracts(today),
        today=today,
        now=now,
        actor_id=actor_id,
        actor_kind=actor_kind,
    )

    previous = await repo.snapshots()
    snapshots = {}
    for family_plan in plan.families:
        family_id = family_plan.family_id or family_ids[id(family_plan)]
        earlier = previous.get(family_id)
        snapshots[family_id] = snapshot_of(
            family_plan, earlier.values if earlier is not None else None
        )
    await repo.save_snapshots(snapshots, import_id, now)
    if plan.prune:
        for removal in plan.removals:
            if not removal.kept:
                await repo.remove_family(removal.family_id)


def _guardian(role: GuardianRole, values: dict[str, str]) -> Guardian:
    typed = typed_values(
        Section.RESPONSABLE if role is GuardianRole.RESPONSABLE else Section.CONJOINT, values
    )
    typed.setdefault("last_name", "")
    typed.setdefault("first_name", "")
    typed["last_name"] = typed["last_name"] or ""
    typed["first_name"] = typed["first_name"] or ""
    return Guardian(role=role, **typed)


def _update_family(family: Family, plan: FamilyPlan) -> None:
    if plan.create_conjoint and family.guardian(GuardianRole.CONJOINT) is None:
        family.guardians.append(Guardian(role=GuardianRole.CONJOINT, last_name="", first_name=""))
    if family.guardian(GuardianRole.RESPONSABLE) is None:
        family.guardians.append(
            Guardian(role=GuardianRole.RESPONSABLE, last_name="", first_name="")
        )
    targets = {
        Section.FAMILY: family,
        Section.RESPONSABLE: family.guardian(GuardianRole.RESPONSABLE),
        Section.CONJOINT: family.guardian(GuardianRole.CONJOINT),
    }
    for change in plan.changes:
        target = targets[change.section]
        value = typed_values(change.section, {change.key: change.new})[change.key]
        if change.key in ("last_name", "first_name") and value is None:
            value = ""
        setattr(target, change.key, value)


def _enrolments(
    family_id: int,
    child_id: int,
    services: dict[str, str | None],
    service_ids: dict[str, int],
    starts_on: dt.date,
) -> list[Enrolment]:
    return [
        Enrolment(
            child_id=child_id,
            service_id=service_ids[code],
            family_id=family_id,
            starts_on=starts_on,
            regular_weekdays=days,
        )
        for code, days in services.items()
        if code in service_ids
    ]
