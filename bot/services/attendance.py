"""Attendance use cases: the pointage of a session, closing it, the regular contract.

Staff open a session's list with `open_pointage` (`/pointage [service] [date]`): the list is
posted through the outbox (`TEMPLATE_LIST`) and, once sent, its message is remembered on the
session (`remember_list_message`, the template's `on_sent` hook). Every tap (`mark_child`,
`mark_all_present`, `add_child`) locks the session, writes the child's mark (who, when, the
arrival or departure time) with its audit row, and queues an edit of every other list of the
session (`TEMPLATE_LIST_EDIT`): two staff ticking the same list see each other's ticks, and
the list is edited, never posted again. The tapper's own list is edited at once by the
handler, from the view the use case returns.

Ticks change nothing for parents until the session is closed (`close_session`): then each
child's day becomes what happened (`bot.domain.attendance.after_session`): "présent", or the
service's no-show status for a booked child not ticked; the services booked with it (the goûter
with the evening garderie) follow, unless staff take their own attendance of them. Each
no-show is told to the family at
that moment (`TEMPLATE_NO_SHOW`, priority NOTICE, so sent at once, the same evening for the
evening garderie). A tap after closing corrects the day at once (a late arrival).

Buttons name a session and a child by id; every tap checks the session exists and the child
is on its list (booked, marked, or, for `add_child`, enrolled in the service that day), else
the refusal is audited and `NotAllowed` raised.

`set_contract` (`/contrat`) stores a child's regular weekdays on its enrolment and writes the
"régulier" days from tomorrow to a rolling horizon (`REGULAR_HORIZON_WEEKS`, within the
enrolment and the school year), so they count as booked without a tap (and a parent cancels
one of them as any booking). The families' import writes them the same way for the contracts
it stores, and the daily job `extend_regular_days` moves every contract's horizon on by a day
(`write_contract_days` is the one home of which days a contract gives).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

from bot.domain.attendance import (
    BOOKED_STATUSES,
    after_session,
    contract_days,
    current_service,
    is_hors_contrat,
    weekday_codes,
)
from bot.domain.calendar import PARIS, Calendar, SchoolCalendarUnavailableError
from bot.domain.calendar import Closure as CalendarClosure
from bot.domain.model import DayStatus, HealthItemKind
from bot.domain.rules import booked_with, cancelled_with
from bot.services.outbox import ACCOUNT, Priority, new_message, queue_many, tell_family
from bot.services.staff_audit import audit_staff
from bot.services.use_case import NotAllowed, use_case
from bot.structure import ServiceConfig, Structure
from storage.db import Database, UnitOfWork
from storage.models import (
    AttendanceMark,
    AttendanceSession,
    Child,
    DayEntry,
    DayEntryEvent,
    Enrolment,
    Service,
)

ACTION_OPEN = "attendance.open"
ACTION_MARK = "attendance.mark"
ACTION_CLOSE = "attendance.close"
ACTION_CONTRACT = "attendance.contract"
TEMPLATE_LIST = "attendance.list"
"""A new pointage list in a chat: {"session_id", "chat_id", "page", "mode"}; once sent, remembered."""
TEMPLATE_LIST_EDIT = "attendance.list_edit"
"""Another staff member's list edited to the session's state:
{"session_id", "chat_id", "message_id", "page", "mode"}."""
TEMPLATE_NO_SHOW = "attendance.no_show"
"""A booked child did not come: {"child" (first name), "sex", "service" (name), "day" (ISO)}."""

LISTS_KEPT = 10
"""How many list messages of a session are kept up to date (the latest ones)."""
REGULAR_HORIZON_WEEKS = 6
"""How far ahead a contract's "régulier" days are written: tomorrow to today + 6 weeks, moved
on by a day by the daily job (bot/regular_days_job.py). Longer than any booking or
cancellation deadline and than the month's invoicing lag, so a day exists before a parent may
cancel it, staff take the attendance or it is billed; and the parents see the next weeks.
Bounded so an import of 2,000 families writes tens of thousands of rows, not a school year's
300,000."""


class Mode(StrEnum):
    """What a tap on a child does on the list: tick present, or record the departure."""

    TICK = "t"
    DEPARTURE = "d"


class OpenOutcome(StrEnum):
    """What became of `/pointage`."""

    OPENED = "opened"
    UNKNOWN_SERVICE = "unknown_service"
    NOT_RUNNING = "not_running"
    NO_SERVICE_TODAY = "no_service_today"


@dataclass(frozen=True)
class PointageRow:
    """One child of a session's list."""

    child_id: int
    first_name: str
    last_name: str
    present: bool
    planned: DayStatus | None
    allergy: bool = False
    pai: bool = False
    arrived_at: dt.datetime | None = None
    left_at: dt.datetime | None = None

    @property
    def hors_contrat(self) -> bool:
        """Present without a booking."""
        return self.present and is_hors_contrat(self.planned)


@dataclass(frozen=True)
class PointageView:
    """A session's list, alphabetical."""

    session_id: int
    service_code: str
    service_name: str
    day: dt.date
    closed: bool
    rows: tuple[PointageRow, ...]

    @property
    def present(self) -> int:
        """How many are ticked."""
        return sum(1 for row in self.rows if row.present)


@dataclass(frozen=True)
class PointageOpened:
    """The answer to `/pointage`."""

    outcome: OpenOutcome
    view: PointageView | None = None
    service_name: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A child enrolled in the service who may be added to the list (hors contrat)."""

    child_id: int
    first_name: str
    last_name: str


@dataclass(frozen=True)
class ClosedSession:
    """What closing a session did."""

    view: PointageView
    no_shows: int
    notices: int
    already_closed: bool = False


class ContractOutcome(StrEnum):
    """What became of `/contrat`."""

    SET = "set"
    UNKNOWN_SERVICE = "unknown_service"
    NOT_ENROLLED = "not_enrolled"
    SEVERAL_CHILDREN = "several_children"
    DAYS_NOT_RUN = "days_not_run"


@dataclass(frozen=True)
class ContractResult:
    """What `/contrat` did."""

    outcome: ContractOutcome
    child: str = ""
    service_name: str = ""
    weekdays: frozenset[int] = frozenset()
    days_added: int = 0
    days_removed: int = 0


# --- the list --------------------------------------------------------------------------------


async def open_pointage(
    db: Database,
    structure: Structure,
    *,
    service_code: str | None,
    day: dt.date,
    chat_id: int,
    staff_id: int,
    now: dt.datetime,
    tz: dt.tzinfo,
) -> PointageOpened:
    """`/pointage`: the session of a service on a day (default: the one running now), its list
    posted in the staff member's chat through the outbox."""
    async with use_case(db) as uow:
        calendar = await _calendar(uow, structure, day, tz)
        if service_code is None:
            local = now.astimezone(tz)
            running = [
                (s.code, s.rules.starts, s.rules.ends)
                for s in structure.services
                if _runs(calendar, s, day)
            ]
            service_code = current_service(running, local.time())
            if service_code is None:
                audit_staff(uow, staff_id, ACTION_OPEN, now=now, outcome="refused", target=str(day))
                return PointageOpened(OpenOutcome.NO_SERVICE_TODAY)
        service = await uow.repos.attendance.service(service_code)
        try:
            config = structure.service(service_code)
        except KeyError:
            config = None
        if service is None or config is None:
            audit_staff(uow, staff_id, ACTION_OPEN, now=now, outcome="refused", target=service_code)
            return PointageOpened(OpenOutcome.UNKNOWN_SERVICE)
        if not _runs(calendar, config, day):
            audit_staff(
                uow,
                staff_id,
                ACTION_OPEN,
                now=now,
                outcome="refused",
                target=f"{service_code}:{day.isoformat()}",
            )
            return PointageOpened(OpenOutcome.NOT_RUNNING, service_name=config.name)
        session = await uow.repos.attendance.session_of(service.id, day, for_update=True)
        if session is None:
            session = AttendanceSession(service_id=service.id, day=day, list_messages=[])
            uow.repos.attendance.add(session)
            await uow.session.flush()
        message = new_message(
            ACCOUNT,
            chat_id,
            TEMPLATE_LIST,
            {"session_id": session.id, "chat_id": chat_id, "page": 0, "mode": Mode.TICK.value},
            now=now,
        )
        await queue_many(uow, [message])
        audit_staff(uow, staff_id, ACTION_OPEN, now=now, target=f"{service_code}:{day.isoformat()}")
        return PointageOpened(OpenOutcome.OPENED, await _view(uow, structure, session, service))


async def pointage_view(db: Database, structure: Structure, session_id: int) -> PointageView | None:
    """A session's list as it stands (what the list messages show)."""
    async with use_case(db, read_only=True) as uow:
        session = await uow.repos.attendance.session_by_id(session_id)
        if session is None:
            return None
        service = await uow.session.get(Service, session.service_id)
        assert service is not None
        return await _view(uow, structure, session, service)


async def remember_list_message(
    uow: UnitOfWork, session_id: int, chat_id: int, message_id: int, page: int, mode: str
) -> None:
    """A list message was posted: later marks edit it too (the `on_sent` hook of the list)."""
    session = await uow.repos.attendance.session_by_id(session_id)
    if session is None:
        return
    shown = [item for item in (session.list_messages or []) if item[:2] != [chat_id, message_id]]
    entry = [chat_id, message_id, page, 0 if mode == Mode.TICK else 1]
    session.list_messages = [*shown, entry][-LISTS_KEPT:]


async def mark_child(
    db: Database,
    structure: Structure,
    session_id: int,
    child_id: int,
    *,
    mode: Mode,
    staff_id: int,
    now: dt.datetime,
    shown_in: tuple[int, int, int] | None,
) -> PointageView:
    """A tap on a child: tick or untick present, or (departure mode) record the departure now.

    ``shown_in`` is (chat, message, page) of the list tapped: the others are edited.
    """
    async with use_case(db) as uow:
        session, service = await _session(uow, session_id, staff_id, now)
        entry = await uow.repos.attendance.entry(child_id, service.id, session.day)
        mark = await uow.repos.attendance.mark(child_id, service.id, session.day)
        listed = mark is not None or (entry is not None and entry.status in BOOKED_STATUSES)
        if not listed:
            _refuse(uow, staff_id, now, session, child_id)
        if mode is Mode.DEPARTURE:
            if mark is None or not mark.present:
                _refuse(uow, staff_id, now, session, child_id)
            mark.left_at, mark.marked_at, mark.marked_by = now, now, staff_id
            what = "departure"
        else:
            assert entry is not None or mark is not None
            mark = mark or _new_mark(entry, child_id, service.id, session.day)
            if mark.id is None:
                uow.repos.attendance.add(mark)
            mark.present = not mark.present
            mark.arrived_at = now if mark.present else None
            mark.left_at = None
            mark.marked_at, mark.marked_by = now, staff_id
            what = "present" if mark.present else "absent"
            if session.closed_at is not None:
                await _apply(uow, structure, service, mark, entry, now, staff_id)
        await uow.session.flush()
        audit_staff(
            uow,
            staff_id,
            ACTION_MARK,
            now=now,
            family_id=mark.family_id,
            target=f"session:{session.id}:child:{child_id}",
            details={"mark": what},
        )
        await _edit_others(uow, session, shown_in, now)
        return await _view(uow, structure, session, service)


async def mark_all_present(
    db: Database,
    structure: Structure,
    session_id: int,
    *,
    staff_id: int,
    now: dt.datetime,
    shown_in: tuple[int, int, int] | None,
) -> PointageView:
    """ "Tous présents": every booked child of the list not ticked yet is ticked."""
    async with use_case(db) as uow:
        session, service = await _session(uow, session_id, staff_id, now)
        marks = {m.child_id: m for m in await uow.repos.attendance.marks(service.id, session.day)}
        ticked = 0
        for entry, _child in await uow.repos.attendance.entries(
            service.id, session.day, BOOKED_STATUSES
        ):
            mark = marks.get(entry.child_id)
            if mark is None:
                mark = _new_mark(entry, entry.child_id, service.id, session.day)
                uow.repos.attendance.add(mark)
            if mark.present:
                continue
            mark.present, mark.arrived_at, mark.left_at = True, now, None
            mark.marked_at, mark.marked_by = now, staff_id
            ticked += 1
            if session.closed_at is not None:
                await _apply(uow, structure, service, mark, entry, now, staff_id)
        await uow.session.flush()
        audit_staff(
            uow,
            staff_id,
            ACTION_MARK,
            now=now,
            target=f"session:{session.id}",
            details={"mark": "all_present", "ticked": ticked},
        )
        await _edit_others(uow, session, shown_in, now)
        return await _view(uow, structure, session, service)


async def add_candidates(db: Database, session_id: int, *, staff_id: int) -> list[Candidate]:
    """The children enrolled in the service that day who are not on the list, alphabetical."""
    async with use_case(db, read_only=True) as uow:
        session = await uow.repos.attendance.session_by_id(session_id)
        if session is None:
            raise NotAllowed()
        listed = {
            m.child_id for m in await uow.repos.attendance.marks(session.service_id, session.day)
        }
        listed |= {
            entry.child_id
            for entry, _child in await uow.repos.attendance.entries(
                session.service_id, session.day, BOOKED_STATUSES
            )
        }
        seen: set[int] = set()
        result = []
        for _enrolment, child in await uow.repos.attendance.enrolled(
            session.service_id, session.day
        ):
            if child.id in listed or child.id in seen:
                continue
            seen.add(child.id)
            result.append(Candidate(child.id, child.first_name, child.last_name))
        return result


async def add_child(
    db: Database,
    structure: Structure,
    session_id: int,
    child_id: int,
    *,
    staff_id: int,
    now: dt.datetime,
    shown_in: tuple[int, int, int] | None,
) -> PointageView:
    """A child who came without a booking, ticked present (the "hors contrat" case)."""
    async with use_case(db) as uow:
        session, service = await _session(uow, session_id, staff_id, now)
        enrolments = [
            enrolment
            for enrolment, child in await uow.repos.attendance.enrolled(service.id, session.day)
            if child.id == child_id
        ]
        if not enrolments:
            _refuse(uow, staff_id, now, session, child_id)
        entry = await uow.repos.attendance.entry(child_id, service.id, session.day)
        mark = await uow.repos.attendance.mark(child_id, service.id, session.day)
        if mark is None:
            mark = AttendanceMark(
                child_id=child_id,
                service_id=service.id,
                family_id=entry.family_id if entry is not None else enrolments[0].family_id,
                day=session.day,
                present=False,
                planned=entry.status if entry is not None else None,
            )
            uow.repos.attendance.add(mark)
        if not mark.present:
            mark.present, mark.arrived_at, mark.left_at = True, now, None
        mark.marked_at, mark.marked_by = now, staff_id
        if session.closed_at is not None:
            await _apply(uow, structure, service, mark, entry, now, staff_id)
        await uow.session.flush()
        audit_staff(
            uow,
            staff_id,
            ACTION_MARK,
            now=now,
            family_id=mark.family_id,
            target=f"session:{session.id}:child:{child_id}",
            details={"mark": "added", "hors_contrat": is_hors_contrat(mark.planned)},
        )
        await _edit_others(uow, session, shown_in, now)
        return await _view(uow, structure, session, service)


async def close_session(
    db: Database,
    structure: Structure,
    session_id: int,
    *,
    staff_id: int,
    now: dt.datetime,
    shown_in: tuple[int, int, int] | None,
) -> ClosedSession:
    """Close a session: each listed child's day becomes what happened; no-shows are told."""
    async with use_case(db) as uow:
        session, service = await _session(uow, session_id, staff_id, now)
        if session.closed_at is not None:
            audit_staff(
                uow,
                staff_id,
                ACTION_CLOSE,
                now=now,
                outcome="refused",
                target=f"session:{session.id}",
                details={"result": "already_closed"},
            )
            view = await _view(uow, structure, session, service)
            return ClosedSession(view, 0, 0, already_closed=True)
        marks = {m.child_id: m for m in await uow.repos.attendance.marks(service.id, session.day)}
        entries = {
            entry.child_id: (entry, child)
            for entry, child in await uow.repos.attendance.entries(service.id, session.day)
        }
        no_shows = notices = 0
        config = structure.service(service.code)
        for child_id, (entry, _child) in sorted(entries.items()):
            if child_id in marks or entry.status not in BOOKED_STATUSES:
                continue
            mark = _new_mark(entry, child_id, service.id, session.day)
            mark.marked_at, mark.marked_by = now, staff_id
            uow.repos.attendance.add(mark)
            marks[child_id] = mark
        for child_id, mark in sorted(marks.items()):
            known = entries.get(child_id)
            status = await _apply(
                uow, structure, service, mark, known[0] if known else None, now, staff_id
            )
            if (
                not mark.present
                and status is config.attendance.no_show_status
                and (mark.planned in BOOKED_STATUSES)
            ):
                no_shows += 1
                child = entries[child_id][1]
                notices += await tell_family(
                    uow,
                    mark.family_id,
                    TEMPLATE_NO_SHOW,
                    {
                        "child": child.first_name,
                        "sex": child.sex or "",
                        "service": config.name,
                        "day": session.day.isoformat(),
                    },
                    now=now,
                    priority=Priority.NOTICE,
                )
        followed = await _close_with(uow, structure, service, session.day, marks, now, staff_id)
        session.closed_at, session.closed_by = now, staff_id
        await uow.session.flush()
        audit_staff(
            uow,
            staff_id,
            ACTION_CLOSE,
            now=now,
            target=f"session:{session.id}",
            details={
                "present": sum(1 for m in marks.values() if m.present),
                "no_shows": no_shows,
                "services_with_it": followed,
            },
        )
        await _edit_others(uow, session, shown_in, now)
        return ClosedSession(await _view(uow, structure, session, service), no_shows, notices)


# --- the regular contract -------------------------------------------------------------------


async def set_contract(
    db: Database,
    structure: Structure,
    *,
    family_number: str,
    first_name: str,
    service_code: str,
    weekdays: frozenset[int],
    staff_id: int,
    now: dt.datetime,
    today: dt.date,
    tz: dt.tzinfo,
) -> ContractResult:
    """`/contrat`: a child's regular weekdays of a service, written as "régulier" days from
    tomorrow to the horizon, the daily job writing the later ones (days already in the planning are left as they are; future regular days of
    weekdays no longer in the contract are cancelled)."""
    async with use_case(db) as uow:
        target = f"{family_number}:{first_name}:{service_code}"
        service = await uow.repos.attendance.service(service_code)
        try:
            config = structure.service(service_code)
        except KeyError:
            config = None
        if service is None or config is None:
            audit_staff(uow, staff_id, ACTION_CONTRACT, now=now, outcome="refused", target=target)
            return ContractResult(ContractOutcome.UNKNOWN_SERVICE)
        if not weekdays <= config.rules.schedule.weekdays:
            audit_staff(uow, staff_id, ACTION_CONTRACT, now=now, outcome="refused", target=target)
            return ContractResult(ContractOutcome.DAYS_NOT_RUN, service_name=config.name)
        found = await uow.repos.attendance.enrolment_of(
            family_number, first_name, service.id, today
        )
        if len({child.id for _e, child in found}) > 1:
            audit_staff(uow, staff_id, ACTION_CONTRACT, now=now, outcome="refused", target=target)
            return ContractResult(ContractOutcome.SEVERAL_CHILDREN, service_name=config.name)
        if not found:
            audit_staff(uow, staff_id, ACTION_CONTRACT, now=now, outcome="refused", target=target)
            return ContractResult(ContractOutcome.NOT_ENROLLED, service_name=config.name)
        enrolment, child = found[0]
        previous = contract_days(enrolment.regular_weekdays)
        enrolment.regular_weekdays = weekday_codes(weekdays) if weekdays else None
        added, removed = await write_regular_days(
            uow, structure, enrolment, today=today, now=now, actor_id=staff_id, tz=tz
        )
        audit_staff(
            uow,
            staff_id,
            ACTION_CONTRACT,
            now=now,
            family_id=enrolment.family_id,
            target=target,
            details={
                "weekdays": weekday_codes(weekdays),
                "before": weekday_codes(previous),
                "added": added,
                "removed": removed,
            },
        )
        return ContractResult(
            ContractOutcome.SET,
            child=child.first_name,
            service_name=config.name,
            weekdays=weekdays,
            days_added=added,
            days_removed=removed,
        )


async def extend_regular_days(
    db: Database, structure: Structure, *, today: dt.date, now: dt.datetime, tz: dt.tzinfo
) -> int:
    """The daily job: every contract's "régulier" days written up to the horizon (today +
    `REGULAR_HORIZON_WEEKS`), so each day the horizon moves on by one; how many were written.

    Idempotent: a second run the same day writes nothing, and a day already in the planning
    (booked, cancelled by the parent, absent…) is left as it is.
    """
    async with use_case(db) as uow:
        return await write_contract_days(
            uow,
            structure,
            await uow.repos.attendance.contracts(today),
            today=today,
            now=now,
            actor_id=None,
            actor_kind="system",
            tz=tz,
        )


# --- building blocks ------------------------------------------------------------------------


def regular_horizon(today: dt.date) -> dt.date:
    """The last day a contract's "régulier" days are written to, as of ``today``."""
    return today + dt.timedelta(weeks=REGULAR_HORIZON_WEEKS)


async def write_regular_days(
    uow: UnitOfWork,
    structure: Structure,
    enrolment: Enrolment,
    *,
    today: dt.date,
    now: dt.datetime,
    actor_id: int | None,
    actor_kind: str = "staff",
    tz: dt.tzinfo = PARIS,
) -> tuple[int, int]:
    """One enrolment's contract (`regular_weekdays`) just set: (days added, days cancelled).

    Every future "régulier" day of a weekday no longer in the contract is cancelled, however
    far (days written before the horizon existed too); then the contract's days are written
    from tomorrow to the horizon (`write_contract_days`). Used by `/contrat`, in its
    transaction.
    """
    removed = await cancel_dropped_days(
        uow, enrolment, today=today, now=now, actor_id=actor_id, actor_kind=actor_kind
    )
    added = await write_contract_days(
        uow,
        structure,
        [enrolment],
        today=today,
        now=now,
        actor_id=actor_id,
        actor_kind=actor_kind,
        tz=tz,
    )
    return added, removed


async def cancel_dropped_days(
    uow: UnitOfWork,
    enrolment: Enrolment,
    *,
    today: dt.date,
    now: dt.datetime,
    actor_id: int | None,
    actor_kind: str = "staff",
) -> int:
    """Cancel the enrolment's future "régulier" days of weekdays its contract no longer has
    (all of them when it has none); how many."""
    weekdays = contract_days(enrolment.regular_weekdays)
    removed = 0
    for entry in await uow.repos.attendance.regular_from(
        enrolment.child_id, enrolment.service_id, today + dt.timedelta(days=1)
    ):
        if entry.family_id != enrolment.family_id or entry.day.weekday() in weekdays:
            continue
        _event(uow, entry, entry.status, DayStatus.CANCELLED, now, actor_id, "contrat", actor_kind)
        entry.status, entry.updated_at = DayStatus.CANCELLED, now
        removed += 1
    return removed


async def write_contract_days(
    uow: UnitOfWork,
    structure: Structure,
    enrolments: Sequence[Enrolment],
    *,
    today: dt.date,
    now: dt.datetime,
    actor_id: int | None,
    actor_kind: str,
    tz: dt.tzinfo = PARIS,
) -> int:
    """Write the "régulier" days the enrolments' contracts give from tomorrow to the horizon
    (`regular_horizon`), within each enrolment and the current school year; how many.

    The one home of which days a contract gives: its weekdays, on which its service runs
    (no closure, no holidays for a school-days service). One set-based INSERT … ON CONFLICT
    DO NOTHING: a day already in the planning, whatever its status, is left as it is. Used by
    `/contrat`, the families' import and the daily job, in their transaction.
    """
    first = today + dt.timedelta(days=1)
    horizon = regular_horizon(today)
    year_end = await uow.repos.attendance.school_year_end(today)
    if year_end is not None:
        horizon = min(horizon, year_end)
    if horizon < first or not enrolments:
        return 0
    configs: dict[int, ServiceConfig] = {}
    for service in await uow.repos.structure.services():
        try:
            configs[service.id] = structure.service(service.code)
        except KeyError:
            continue
    calendar = await _calendar(uow, structure, first, tz, last=horizon)
    runs: dict[tuple[int, dt.date], bool] = {}
    rows = []
    for enrolment in enrolments:
        config = configs.get(enrolment.service_id)
        weekdays = contract_days(enrolment.regular_weekdays)
        if config is None or not weekdays:
            continue
        day = max(first, enrolment.starts_on)
        last = min(horizon, enrolment.ends_on or horizon)
        while day <= last:
            if day.weekday() in weekdays:
                key = (enrolment.service_id, day)
                if key not in runs:
                    runs[key] = _runs(calendar, config, day)
                if runs[key]:
                    rows.append(
                        {
                            "child_id": enrolment.child_id,
                            "service_id": enrolment.service_id,
                            "family_id": enrolment.family_id,
                            "day": day,
                            "status": DayStatus.REGULAR,
                            "updated_at": now,
                        }
                    )
            day += dt.timedelta(days=1)
    written = await uow.repos.attendance.insert_missing_days(rows)
    await uow.repos.attendance.insert_events(
        [
            {
                "day_entry_id": entry_id,
                "at": now,
                "actor_telegram_id": actor_id,
                "actor_kind": actor_kind,
                "from_status": None,
                "to_status": DayStatus.REGULAR,
                "note": "contrat",
            }
            for entry_id in written
        ]
    )
    return len(written)


async def _session(
    uow: UnitOfWork, session_id: int, staff_id: int, now: dt.datetime
) -> tuple[AttendanceSession, Service]:
    session = await uow.repos.attendance.session_by_id(session_id)
    if session is not None:
        session = await uow.repos.attendance.session_of(
            session.service_id, session.day, for_update=True
        )
    service = await uow.session.get(Service, session.service_id) if session is not None else None
    if session is None or service is None:
        audit_staff(
            uow,
            staff_id,
            ACTION_MARK,
            now=now,
            outcome="refused",
            target=f"session:{session_id}",
            details={"result": "unknown_session"},
        )
        raise NotAllowed()
    return session, service


def _refuse(
    uow: UnitOfWork, staff_id: int, now: dt.datetime, session: AttendanceSession, child_id: int
) -> NoReturn:
    """Audit a tap naming a child who is not on the session's list, and refuse it."""
    audit_staff(
        uow,
        staff_id,
        ACTION_MARK,
        now=now,
        outcome="refused",
        target=f"session:{session.id}:child:{child_id}",
        details={"result": "not_on_the_list"},
    )
    raise NotAllowed()


def _new_mark(
    entry: DayEntry | None, child_id: int, service_id: int, day: dt.date
) -> AttendanceMark:
    assert entry is not None
    return AttendanceMark(
        child_id=child_id,
        service_id=service_id,
        family_id=entry.family_id,
        day=day,
        present=False,
        planned=entry.status,
    )


async def _close_with(
    uow: UnitOfWork,
    structure: Structure,
    service: Service,
    day: dt.date,
    marks: dict[int, AttendanceMark],
    now: dt.datetime,
    staff_id: int,
) -> list[str]:
    """The services booked and cancelled with this one (the goûter with the evening garderie)
    follow its attendance, unless staff take their own: a booked day becomes "présent" or
    that service's no-show status. Returns their codes."""
    rules = {s.code: s.rules for s in structure.services}
    if service.code not in rules:
        return []
    followed = []
    for code in sorted(booked_with(service.code, rules) | cancelled_with(service.code, rules)):
        other = await uow.repos.attendance.service(code)
        if other is None or await uow.repos.attendance.session_of(other.id, day) is not None:
            continue
        policy = structure.service(code).attendance
        followed.append(code)
        for child_id, mark in sorted(marks.items()):
            entry = await uow.repos.attendance.entry(child_id, other.id, day)
            if entry is None or entry.status not in BOOKED_STATUSES:
                continue
            status = after_session(entry.status, mark.present, policy)
            if status is not None and status is not entry.status:
                _event(uow, entry, entry.status, status, now, staff_id, "pointage")
                entry.status, entry.updated_at = status, now
    return followed


async def _apply(
    uow: UnitOfWork,
    structure: Structure,
    service: Service,
    mark: AttendanceMark,
    entry: DayEntry | None,
    now: dt.datetime,
    staff_id: int,
) -> DayStatus | None:
    """Set the child's day to what the mark says happened (the session is closed)."""
    policy = structure.service(service.code).attendance
    status = after_session(mark.planned, mark.present, policy)
    if status is None:
        if entry is not None and entry.status is DayStatus.PRESENT:
            status = DayStatus.CANCELLED  # added by mistake, unticked after closing
        else:
            return None
    if entry is None:
        entry = DayEntry(
            child_id=mark.child_id,
            service_id=service.id,
            family_id=mark.family_id,
            day=mark.day,
            status=status,
            updated_at=now,
        )
        uow.repos.attendance.add(entry)
        await uow.session.flush()
        _event(uow, entry, None, status, now, staff_id, "pointage")
        return status
    if entry.status is not status:
        _event(uow, entry, entry.status, status, now, staff_id, "pointage")
        entry.status, entry.updated_at = status, now
    return status


def _event(
    uow: UnitOfWork,
    entry: DayEntry,
    before: DayStatus | None,
    after: DayStatus,
    now: dt.datetime,
    actor_id: int | None,
    note: str,
    actor_kind: str = "staff",
) -> None:
    uow.session.add(
        DayEntryEvent(
            day_entry_id=entry.id,
            at=now,
            actor_telegram_id=actor_id,
            actor_kind=actor_kind,
            from_status=before,
            to_status=after,
            note=note,
        )
    )


async def _edit_others(
    uow: UnitOfWork,
    session: AttendanceSession,
    shown_in: tuple[int, int, int] | None,
    now: dt.datetime,
) -> None:
    """Queue an edit of every list of the session but the one tapped (edited by the handler)."""
    shown = [list(item) for item in (session.list_messages or [])]
    messages = []
    for item in shown:
        chat_id, message_id, page, mode = [*item, 0, 0][:4]
        if shown_in is not None and (chat_id, message_id) == shown_in[:2]:
            item[2] = shown_in[2]
            continue
        messages.append(
            new_message(
                ACCOUNT,
                chat_id,
                TEMPLATE_LIST_EDIT,
                {
                    "session_id": session.id,
                    "chat_id": chat_id,
                    "message_id": message_id,
                    "page": page,
                    "mode": Mode.TICK.value if mode == 0 else Mode.DEPARTURE.value,
                },
                now=now,
            )
        )
    session.list_messages = shown
    if messages:
        await queue_many(uow, messages)


async def _view(
    uow: UnitOfWork, structure: Structure, session: AttendanceSession, service: Service
) -> PointageView:
    repo = uow.repos.attendance
    marks = {m.child_id: m for m in await repo.marks(service.id, session.day)}
    children: dict[int, Child] = {}
    planned: dict[int, DayStatus | None] = {}
    for entry, child in await repo.entries(service.id, session.day):
        if entry.status in BOOKED_STATUSES or child.id in marks:
            children[child.id] = child
            planned[child.id] = entry.status
    missing = [child_id for child_id in marks if child_id not in children]
    for child in await repo.children(missing):
        children[child.id] = child
    flags = await repo.health_flags(list(children))
    rows = []
    for child_id, child in children.items():
        mark = marks.get(child_id)
        rows.append(
            PointageRow(
                child_id=child_id,
                first_name=child.first_name,
                last_name=child.last_name,
                present=mark is not None and mark.present,
                planned=mark.planned if mark is not None else planned.get(child_id),
                allergy=HealthItemKind.ALLERGY in flags.get(child_id, set()),
                pai=HealthItemKind.PAI in flags.get(child_id, set()),
                arrived_at=mark.arrived_at if mark is not None else None,
                left_at=mark.left_at if mark is not None else None,
            )
        )
    rows.sort(key=lambda r: (r.first_name.casefold(), r.last_name.casefold(), r.child_id))
    try:
        name = structure.service(service.code).name
    except KeyError:
        name = service.name
    return PointageView(
        session_id=session.id,
        service_code=service.code,
        service_name=name,
        day=session.day,
        closed=session.closed_at is not None,
        rows=tuple(rows),
    )


async def _calendar(
    uow: UnitOfWork,
    structure: Structure,
    first: dt.date,
    tz: dt.tzinfo,
    *,
    last: dt.date | None = None,
) -> Calendar:
    closures = [
        CalendarClosure(day=closure.day, service_code=code, reason=closure.reason)
        for closure, code in await uow.repos.planning.closures_between(first, last or first)
    ]
    return Calendar(structure.school_holiday_zone, closures=closures, tz=tz)


def _runs(calendar: Calendar, service: ServiceConfig, day: dt.date) -> bool:
    try:
        return calendar.why_not_running(service.code, service.rules.schedule, day) is None
    except SchoolCalendarUnavailableError:
        return day.weekday() in service.rules.schedule.weekdays


__all__ = [
    "ACTION_CLOSE",
    "ACTION_CONTRACT",
    "ACTION_MARK",
    "ACTION_OPEN",
    "REGULAR_HORIZON_WEEKS",
    "TEMPLATE_LIST",
    "TEMPLATE_LIST_EDIT",
    "TEMPLATE_NO_SHOW",
    "Candidate",
    "ClosedSession",
    "ContractOutcome",
    "ContractResult",
    "Mode",
    "OpenOutcome",
    "PointageOpened",
    "PointageRow",
    "PointageView",
    "add_candidates",
    "add_child",
    "cancel_dropped_days",
    "close_session",
    "extend_regular_days",
    "mark_all_present",
    "mark_child",
    "open_pointage",
    "pointage_view",
    "regular_horizon",
    "remember_list_message",
    "set_contract",
    "write_contract_days",
    "write_regular_days",
]
