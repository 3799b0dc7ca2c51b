"""Planning use cases: the month of a child, the options of a day, book, cancel, declare an
absence, join a waiting list, book a weekly pattern, send a doctor's certificate.

The public use cases (`open_planning`, `show_month`, `show_day`, `act_on_day`, `family_day`,
`act_for_children`, `pattern_choice`, `book_weekly_pattern`, `proof_expected`,
`attach_proof`) take the database and the tapping account's Telegram id, open one
transaction, check that the child (or request) named by the button belongs to that account's
family (`child_of_family`, the one ownership check of the code; a foreign id is audited
and refused with `NotAllowed`), act, commit once and return plain data. The functions taking a
unit of work (`book`, `cancel`, `join_waiting_list`, `book_pattern` …) are their building
blocks, also used by other services inside their own transaction.

Rules come from `bot.domain.rules`; each change of a day is written with its history (who,
when, which request). Capacity is checked under a lock on the service, so two families racing
for the last place cannot both get it. A place freed by a cancellation goes to the first child
of the waiting list, and that family is told through the outbox in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.domain.calendar import (
    Calendar,
    DayKind,
    NotRunning,
    Period,
    SchoolCalendarUnavailableError,
    SchoolHolidayPeriod,
)
from bot.domain.calendar import (
    Closure as CalendarClosure,
)
from bot.domain.custody import in_custody
from bot.domain.model import (
    PLACE_HOLDING_STATUSES,
    AbsenceReason,
    DayStatus,
    RequestKind,
    RequestStatus,
)
from bot.domain.planning import Month
from bot.domain.rules import (
    BelowMinimum,
    Consequence,
    Decision,
    Outcome,
    Reason,
    WeekShortfall,
    booked_with,
    calendar_reach,
    can_book,
    can_cancel,
    can_declare_absence,
    cancelled_with,
    check_min_per_week,
)
from bot.domain.rules import BookingWindow as RulesWindow
from bot.services.children import child_of_family, refuse_foreign
from bot.services.outbox import STAFF, tell_family, tell_staff
from bot.services.request_cards import REOPENED_TEMPLATE
from bot.services.requests import CARD_TEMPLATE, CARD_UPDATE_TEMPLATE, submit_request
from bot.services.use_case import NotAllowed, family_use_case, use_case
from bot.structure import ServiceConfig, Structure
from storage.db import Database, UnitOfWork
from storage.models import Child, DayEntry, DayEntryEvent, Request, Service, WaitingListEntry

PLACE_FREED = "planning.place_freed"
"""Template told to a family whose waiting child got a freed place:
{"child_id", "child" (first name), "services" (codes), "day" (ISO), "pending" (staff decide)}."""
WEEK_BELOW_MINIMUM = "planning.week_below_minimum"
"""Template telling staff a cancellation left a week below the service's minimum (`below: flag`):
{"child_id", "child" (full name), "service" (code), "week" (ISO Monday), "booked", "required"}."""
CERTIFICATE = "planning.certificate"
"""Template showing staff a doctor's certificate sent after the request's card: {"request_id"}."""


class BookingOutcome(StrEnum):
    """What became of a parent's action on a day."""

    BOOKED = "booked"
    PENDING = "pending"  # waiting for staff
    ALREADY = "already"  # nothing to do: a double tap, or already in that state
    CANCELLED = "cancelled"
    ABSENCE_RECORDED = "absence_recorded"
    ABSENCE_PENDING = "absence_pending"  # late: staff decide whether it is billed
    WAITING_LIST = "waiting_list"
    REFUSED = "refused"
    LATE_CONSENT_NEEDED = (
        "late_consent_needed"  # after the deadline: billed unless excused, if the parent confirms
    )
    NOT_ENROLLED = "not_enrolled"
    NOT_FOUND = "not_found"  # not this family's child, or unknown service
    OTHER_HOUSEHOLD_BOOKED = (
        "other_household_booked"  # garde alternée: the other foyer booked that day
    )


@dataclass(frozen=True)
class ActionResult:
    """The outcome of one action, with the decision that applied and what it touched."""

    outcome: BookingOutcome
    decision: Decision | None = None
    services: tuple[str, ...] = ()
    request_id: int | None = None
    freed_for: tuple[int, ...] = ()  # families whose waiting child got the freed place
    other_household: bool = False  # garde alternée: the other foyer's week, so staff decide
    week_shortfall: WeekShortfall | None = None  # fewer days booked that week than the minimum

    @property
    def deadline(self) -> dt.datetime | None:
        """The deadline that applied (the one passed, for `LATE_CONSENT_NEEDED`)."""
        return self.decision.deadline if self.decision is not None else None


@dataclass(frozen=True)
class Planning:
    """What the planning needs to know about the structure for a period."""

    structure: Structure
    calendar: Calendar
    windows: tuple[RulesWindow, ...]

    def service(self, code: str) -> ServiceConfig:
        """The configured service with this code."""
        return self.structure.service(code)

    def group(self, code: str) -> list[str]:
        """The service and those booked and cancelled with it (goûter with garderie soir)."""
        rules = {s.code: s.rules for s in self.structure.services}
        return [code, *sorted(booked_with(code, rules) | cancelled_with(code, rules))]


@dataclass(frozen=True)
class ServiceDay:
    """One enrolled service on one day, with what the parent may do now."""

    service_id: int
    code: str
    name: str
    status: DayStatus | None
    waiting: bool
    book: Decision | None = None
    cancel: Decision | None = None
    absence: Decision | None = None
    not_running: bool = False
    why_not_running: NotRunning | None = None
    closure_reason: str | None = None  # the staff closure's reason, when closed
    proof_request_id: int | None = None  # a pending absence still without its certificate
    other_booked: bool = False  # garde alternée: the other foyer booked the child that day


@dataclass(frozen=True)
class DayCell:
    """One day of a child's month."""

    day: dt.date
    kind: DayKind
    closed: bool
    statuses: tuple[DayStatus, ...]
    waiting: bool
    other_household: bool = False


@dataclass(frozen=True)
class MonthPlanning:
    """A child's month (or, with `child` None, all the family's children together)."""

    child: Child | None
    month: Month
    cells: dict[dt.date, DayCell] = field(default_factory=dict)


async def load_planning(
    uow: UnitOfWork, structure: Structure, tz: dt.tzinfo, first: dt.date, last: dt.date
) -> Planning:
    """Calendar (with staff closures) and booking windows for a period.

    Closures are loaded over the reach of the services' deadlines around the period (a closure
    on Monday moves Tuesday's "previous open day"), so the day view, the weekly pattern,
    reminders and headcounts all see the same deadline whatever range they ask for.
    """
    reaches = [calendar_reach(s.rules) for s in structure.services] or [(0, 0)]
    back = max(r[0] for r in reaches)
    forward = max(r[1] for r in reaches)
    closures = [
        CalendarClosure(day=closure.day, service_code=code, reason=closure.reason)
        for closure, code in await uow.repos.planning.closures_between(
            first - dt.timedelta(days=back), last + dt.timedelta(days=forward)
        )
    ]
    windows = tuple(
        RulesWindow(code, w.period_starts_on, w.period_ends_on, w.opens_at, w.closes_at)
        for w, code in await uow.repos.planning.booking_windows()
    )
    calendar = Calendar(structure.school_holiday_zone, closures=closures, tz=tz)
    return Planning(structure=structure, calendar=calendar, windows=windows)


async def children_of_family(uow: UnitOfWork, family_id: int) -> Sequence[Child]:
    """The family's children, for the child picker."""
    return await uow.repos.families.children(family_id)


async def month_planning(
    uow: UnitOfWork, planning: Planning, family_id: int, child: Child, month: Month
) -> MonthPlanning:
    """Every day of the month with the child's statuses and the kind of day."""
    first, last = month.first_day(), month.last_day()
    entries = await uow.repos.planning.entries(child.id, first, last)
    waiting = {w.day for w in await uow.repos.planning.waiting_days(child.id, first, last)}
    by_day: dict[dt.date, list[DayStatus]] = {}
    for entry in entries:
        if entry.family_id == family_id:
            by_day.setdefault(entry.day, []).append(entry.status)
    result = MonthPlanning(child=child, month=month)
    link = await uow.repos.planning.family_link(family_id, child.id)
    day = first
    while day <= last:
        try:
            kind = planning.calendar.day_kind(day)
        except SchoolCalendarUnavailableError:
            kind = DayKind.WEEKEND if day.weekday() >= 5 else DayKind.SCHOOL_DAY
        result.cells[day] = DayCell(
            day=day,
            kind=kind,
            closed=planning.calendar.closure(day) is not None,
            statuses=tuple(by_day.get(day, ())),
            waiting=day in waiting,
            other_household=link is not None
            and not in_custody(link.custody, day, link.custody_reference_monday),
        )
        day += dt.timedelta(days=1)
    return result


async def family_month_planning(
    uow: UnitOfWork, planning: Planning, family_id: int, children: Sequence[Child], month: Month
) -> MonthPlanning:
    """All the family's children in one month: each day with every child's statuses."""
    views = [await month_planning(uow, planning, family_id, child, month) for child in children]
    merged = MonthPlanning(child=None, month=month)
    for day, cell in views[0].cells.items():
        others = [view.cells[day] for view in views]
        merged.cells[day] = DayCell(
            day=day,
            kind=cell.kind,
            closed=cell.closed,
            statuses=tuple(status for other in others for status in other.statuses),
            waiting=any(other.waiting for other in others),
            other_household=all(other.other_household for other in others),
        )
    return merged


async def day_services(
    uow: UnitOfWork,
    planning: Planning,
    family_id: int,
    child: Child,
    day: dt.date,
    now: dt.datetime,
) -> list[ServiceDay]:
    """The child's enrolled services on a day, each with its status and possible actions."""
    enrolments = [
        enrolment
        for enrolment in await uow.repos.planning.enrolments(family_id, child.id, day, day)
        if enrolment.starts_on <= day and (enrolment.ends_on is None or enrolment.ends_on >= day)
    ]
    if not enrolments:
        return []
    entries = {
        entry.service_id: entry for entry in await uow.repos.planning.entries(child.id, day, day)
    }
    waiting = {
        place.service_id for place in await uow.repos.planning.waiting_days(child.id, day, day)
    }
    return [
        await _service_day(
            uow,
            planning,
            family_id,
            child,
            enrolment.service,
            day,
            now,
            entry=entries.get(enrolment.service_id),
            waiting=enrolment.service_id in waiting,
        )
        for enrolment in enrolments
    ]


async def _service_day(
    uow: UnitOfWork,
    planning: Planning,
    family_id: int,
    child: Child,
    service: Service,
    day: dt.date,
    now: dt.datetime,
    *,
    entry: DayEntry | None,
    waiting: bool,
) -> ServiceDay:
    """One service of the child's day, given its entry and whether the child waits for a place."""
    config = planning.service(service.code)
    if entry is not None and entry.family_id != family_id:  # the other foyer's booking: not shown
        return ServiceDay(service.id, service.code, config.name, None, False, other_booked=True)
    status = entry.status if entry else None
    base = ServiceDay(service.id, service.code, config.name, status, waiting)
    try:
        why = planning.calendar.why_not_running(service.code, config.rules.schedule, day)
    except SchoolCalendarUnavailableError:
        return replace(base, not_running=True)
    if why is not None:
        closure = (
            planning.calendar.closure(day, service.code) if why is NotRunning.CLOSURE else None
        )
        return replace(
            base,
            not_running=True,
            why_not_running=why,
            closure_reason=closure.reason if closure else None,
        )
    if status in (DayStatus.RESERVED, DayStatus.REGULAR):
        child_days = await _child_days(uow, child.id, service.id, day)
        return replace(
            base,
            cancel=can_cancel(config, day, now, calendar=planning.calendar, child_days=child_days),
            absence=can_declare_absence(
                config, day, now, calendar=planning.calendar, child_days=child_days
            ),
        )
    if (
        status == DayStatus.ABSENCE_PROCESSING
        and entry is not None
        and entry.request_id is not None
    ):
        request = await uow.repos.requests.get(entry.request_id)
        if (
            request is not None
            and request.status == RequestStatus.PENDING
            and request.attachment_file_id is None
        ):
            return replace(base, proof_request_id=request.id)
    if status in (None, DayStatus.CANCELLED, DayStatus.BOOKING_REFUSED) and not waiting:
        taken = await uow.repos.planning.places_taken(service.id, day, PLACE_HOLDING_STATUSES)
        decision = can_book(
            config,
            day,
            now,
            calendar=planning.calendar,
            windows=planning.windows,
            booked_count=taken,
        )
        return replace(base, book=decision)
    return base


async def book(
    uow: UnitOfWork,
    planning: Planning,
    family_id: int,
    child: Child,
    service_id: int,
    day: dt.date,
    now: dt.datetime,
    *,
    actor: int | None,
    planned_days: frozenset[dt.date] = frozenset(),
) -> ActionResult:
    """Book a service (and those booked with it) for a day, within the rules and capacity.

    A week left below the service's minimum days (counting `planned_days`, the other days the
    same action books) is refused (`below: refuse`) or sent to staff flagged (`below: flag`).
    """
    services = await _group_services(uow, planning, family_id, child, service_id, day)
    if services is None:
        return ActionResult(BookingOutcome.NOT_ENROLLED)
    entries = {s.id: await uow.repos.planning.entry(child.id, s.id, day) for s in services}
    if any(
        e is not None and e.family_id != family_id and e.status in PLACE_HOLDING_STATUSES
        for e in entries.values()
    ):
        return ActionResult(
            BookingOutcome.OTHER_HOUSEHOLD_BOOKED, services=tuple(s.code for s in services)
        )
    if all(e is not None and e.status in PLACE_HOLDING_STATUSES for e in entries.values()):
        return ActionResult(BookingOutcome.ALREADY, services=tuple(s.code for s in services))
    decisions = []
    for service in services:
        await uow.repos.planning.lock_service(service.id)
        taken = await uow.repos.planning.places_taken(service.id, day, PLACE_HOLDING_STATUSES)
        decision = can_book(
            planning.service(service.code),
            day,
            now,
            calendar=planning.calendar,
            windows=planning.windows,
            booked_count=taken,
        )
        if not decision.allowed:
            return ActionResult(BookingOutcome.REFUSED, decision, (service.code,))
        decisions.append(decision)
    shortfall = await _week_shortfall(
        uow, planning, child, services[0], day, adding=planned_days | {day}
    )
    if (
        shortfall is not None
        and planning.service(services[0].code).rules.below_minimum is BelowMinimum.REFUSE
    ):
        refusal = Decision(
            Outcome.REFUSED, reason=Reason.BELOW_WEEKLY_MINIMUM, deadline=decisions[0].deadline
        )
        return ActionResult(
            BookingOutcome.REFUSED, refusal, (services[0].code,), week_shortfall=shortfall
        )
    link = await uow.repos.planning.family_link(family_id, child.id)
    other_household = link is not None and not in_custody(
        link.custody, day, link.custody_reference_monday
    )
    pending = (
        other_household
        or shortfall is not None
        or any(d.outcome is Outcome.PENDING for d in decisions)
    )
    request = None
    if pending:
        payload: dict[str, Any] = {
            "services": [s.code for s in services],
            "day": day.isoformat(),
            "other_household": other_household,
        }
        if shortfall is not None:
            payload["week_minimum"] = {
                "week": shortfall.week_start.isoformat(),
                "required": shortfall.required,
            }
        request = await submit_request(
            uow,
            family_id=family_id,
            child_id=child.id,
            kind=RequestKind.BOOKING,
            payload=payload,
            created_by=actor,
            now=now,
        )
    status = DayStatus.BOOKING_PROCESSING if pending else DayStatus.RESERVED
    for service in services:
        await _set_status(
            uow, entries[service.id], child, service, family_id, day, status, now, actor, request
        )
        waiting = await uow.repos.planning.waiting_entry(child.id, service.id, day)
        if waiting is not None:
            await uow.repos.planning.delete(waiting)
    outcome = BookingOutcome.PENDING if pending else BookingOutcome.BOOKED
    return ActionResult(
        outcome,
        decisions[0],
        tuple(s.code for s in services),
        request.id if request else None,
        other_household=other_household,
        week_shortfall=shortfall,
    )


async def _week_shortfall(
    uow: UnitOfWork,
    planning: Planning,
    child: Child,
    service: Service,
    day: dt.date,
    *,
    adding: frozenset[dt.date] = frozenset(),
    removing: frozenset[dt.date] = frozenset(),
) -> WeekShortfall | None:
    """The shortfall of `day`'s week against the service's minimum days a week (holiday ALSH),
    once `adding` is booked and `removing` cancelled; None when the minimum is met or the week
    is left without any day."""
    config = planning.service(service.code)
    if config.rules.min_per_week is None:
        return None
    monday = day - dt.timedelta(days=day.weekday())
    sunday = monday + dt.timedelta(days=6)
    entries = await uow.repos.planning.entries(child.id, monday, sunday)
    days = {
        e.day for e in entries if e.service_id == service.id and e.status in PLACE_HOLDING_STATUSES
    }
    days = (days | {d for d in adding if monday <= d <= sunday}) - removing
    shortfalls = check_min_per_week(config, days, calendar=planning.calendar)
    return shortfalls[0] if shortfalls else None


async def cancel(
    uow: UnitOfWork,
    planning: Planning,
    family_id: int,
    child: Child,
    service_id: int,
    day: dt.date,
    now: dt.datetime,
    *,
    actor: int | None,
    accept_late: bool = False,
    reason: AbsenceReason | None = None,
    note: str | None = None,
    attachment: tuple[str, str] | None = None,
) -> ActionResult:
    """Cancel a booking, or declare an absence (with a reason) — with the services booked with it.

    In time: the day is cancelled (or "absent excusé" for an absence), nothing billed. After the
    deadline, with `late: billed`, only once the parent accepted the consequence
    (`accept_late`): the day becomes "absence en cours de traitement" and staff decide whether
    it is billed. A booking still waiting for staff is simply withdrawn.
    """
    services = await _group_services(uow, planning, family_id, child, service_id, day)
    if services is None:
        return ActionResult(BookingOutcome.NOT_ENROLLED)
    main = services[0]
    entry = await uow.repos.planning.entry(child.id, main.id, day)
    if entry is None or entry.family_id != family_id or entry.status not in PLACE_HOLDING_STATUSES:
        return ActionResult(BookingOutcome.ALREADY)
    if entry.status == DayStatus.ABSENCE_PROCESSING:
        return ActionResult(BookingOutcome.ALREADY)
    codes = tuple(s.code for s in services)
    if entry.status == DayStatus.BOOKING_PROCESSING:
        return await _withdraw_pending(uow, family_id, child, services, day, now, actor, entry)
    config = planning.service(main.code)
    child_days = await _child_days(uow, child.id, main.id, day)
    check = can_declare_absence if reason is not None else can_cancel
    decision = check(config, day, now, calendar=planning.calendar, child_days=child_days)
    if not decision.allowed:
        return ActionResult(BookingOutcome.REFUSED, decision, codes)
    shortfall = await _week_shortfall(uow, planning, child, main, day, removing=frozenset({day}))
    if shortfall is not None and config.rules.below_minimum is BelowMinimum.REFUSE:
        refusal = Decision(
            Outcome.REFUSED, reason=Reason.BELOW_WEEKLY_MINIMUM, deadline=decision.deadline
        )
        return ActionResult(BookingOutcome.REFUSED, refusal, codes, week_shortfall=shortfall)
    late = decision.consequence is Consequence.BILLED_UNLESS_EXCUSED
    if late and not accept_late:
        return ActionResult(BookingOutcome.LATE_CONSENT_NEEDED, decision, codes)
    request = None
    if late:
        request = await submit_request(
            uow,
            family_id=family_id,
            child_id=child.id,
            kind=RequestKind.ABSENCE,
            payload={
                "services": list(codes),
                "day": day.isoformat(),
                "reason": (reason or AbsenceReason.OTHER).value,
                "note": note or "",
            },
            created_by=actor,
            now=now,
            attachment_file_id=attachment[0] if attachment else None,
            attachment_kind=attachment[1] if attachment else None,
        )
        new_status = DayStatus.ABSENCE_PROCESSING
    else:
        new_status = DayStatus.ABSENT_EXCUSED if reason is not None else DayStatus.CANCELLED
    freed: list[int] = []
    for service in services:
        current = await uow.repos.planning.entry(child.id, service.id, day)
        if current is None or current.status not in PLACE_HOLDING_STATUSES:
            continue
        await _set_status(
            uow, current, child, service, family_id, day, new_status, now, actor, request, note=note
        )
        if new_status not in PLACE_HOLDING_STATUSES:
            given = await _offer_freed_place(uow, planning, service, day, now)
            if given is not None:
                freed.append(given)
    if shortfall is not None:
        params = {
            "child_id": child.id,
            "child": f"{child.first_name} {child.last_name}",
            "service": main.code,
            "week": shortfall.week_start.isoformat(),
            "booked": shortfall.booked,
            "required": shortfall.required,
        }
        await tell_staff(uow, WEEK_BELOW_MINIMUM, params, now=now, family_id=family_id)
    if late:
        return ActionResult(
            BookingOutcome.ABSENCE_PENDING,
            decision,
            codes,
            request.id if request else None,
            tuple(freed),
            week_shortfall=shortfall,
        )
    outcome = BookingOutcome.ABSENCE_RECORDED if reason is not None else BookingOutcome.CANCELLED
    return ActionResult(outcome, decision, codes, None, tuple(freed), week_shortfall=shortfall)


async def join_waiting_list(
    uow: UnitOfWork,
    planning: Planning,
    family_id: int,
    child: Child,
    service_id: int,
    day: dt.date,
    now: dt.datetime,
) -> ActionResult:
    """Put the child on a full day's waiting list (once)."""
    services = await _group_services(uow, planning, family_id, child, service_id, day)
    if services is None:
        return ActionResult(BookingOutcome.NOT_ENROLLED)
    main = services[0]
    if await uow.repos.planning.waiting_entry(child.id, main.id, day) is not None:
        return ActionResult(BookingOutcome.ALREADY, services=(main.code,))
    uow.repos.planning.add(
        WaitingListEntry(
            child_id=child.id, service_id=main.id, family_id=family_id, day=day, created_at=now
        )
    )
    return ActionResult(BookingOutcome.WAITING_LIST, services=(main.code,))


@dataclass(frozen=True)
class PatternDay:
    """The outcome of one day of a weekly pattern booking."""

    day: dt.date
    service_code: str
    result: ActionResult


async def book_pattern(
    uow: UnitOfWork,
    planning: Planning,
    family_id: int,
    child: Child,
    service_ids: Sequence[int],
    weekdays: frozenset[int],
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
    *,
    actor: int | None,
) -> list[PatternDay]:
    """Book the chosen services on the chosen weekdays from `first` to `last`, day by day.

    Days the service does not run are skipped; every other day is checked against the rules
    and reported, booked or not, with why.
    """
    planned: list[tuple[dt.date, Service]] = []
    link = await uow.repos.planning.family_link(family_id, child.id)
    day = first
    while day <= last:
        if link is not None and not in_custody(link.custody, day, link.custody_reference_monday):
            day += dt.timedelta(days=1)  # the other foyer's week: "une semaine sur deux"
            continue
        if day.weekday() in weekdays:
            for service_id in service_ids:
                service = await _enrolled_service(uow, family_id, child, service_id, day)
                if service is not None and _runs(planning, service.code, day):
                    planned.append((day, service))
        day += dt.timedelta(days=1)
    by_service = {
        s.id: frozenset(d for d, other in planned if other.id == s.id) for _d, s in planned
    }
    results = []
    for day, service in planned:
        result = await book(
            uow,
            planning,
            family_id,
            child,
            service.id,
            day,
            now,
            actor=actor,
            planned_days=by_service[service.id],
        )
        results.append(PatternDay(day, service.code, result))
    return results


def next_holidays_start(planning: Planning, today: dt.date, horizon_days: int = 120) -> dt.date:
    """The last school day before the next school holidays (at most `horizon_days` ahead)."""
    day = today
    for _ in range(horizon_days):
        nxt = day + dt.timedelta(days=1)
        try:
            if planning.calendar.school_holidays(nxt) is not None:
                return day
        except SchoolCalendarUnavailableError:
            return day
        day = nxt
    return day


async def _withdraw_pending(
    uow: UnitOfWork,
    family_id: int,
    child: Child,
    services: list[Service],
    day: dt.date,
    now: dt.datetime,
    actor: int | None,
    entry: DayEntry,
) -> ActionResult:
    if entry.request_id is not None:
        request = await uow.repos.requests.get(entry.request_id)
        if request is not None and request.status == RequestStatus.PENDING:
            request.status = RequestStatus.CANCELLED
            request.decided_at = now
            if (
                request.admin_message_id is not None and request.admin_message_id > 0
            ):  # its card loses its buttons
                await tell_staff(
                    uow,
                    CARD_UPDATE_TEMPLATE,
                    {"request_id": request.id},
                    now=now,
                    family_id=family_id,
                )
    for service in services:
        current = await uow.repos.planning.entry(child.id, service.id, day)
        if current is not None and current.status == DayStatus.BOOKING_PROCESSING:
            await _set_status(
                uow, current, child, service, family_id, day, DayStatus.CANCELLED, now, actor, None
            )
    return ActionResult(BookingOutcome.CANCELLED, services=tuple(s.code for s in services))


async def _offer_freed_place(
    uow: UnitOfWork, planning: Planning, service: Service, day: dt.date, now: dt.datetime
) -> int | None:
    """Give a freed place to the first child of the waiting list and tell its family (an
    outbox row of this transaction); return the family id."""
    waiting = await uow.repos.planning.first_waiting(service.id, day)
    if waiting is None:
        return None
    child = await uow.repos.children.of_family(waiting.family_id, waiting.child_id)
    if child is None:
        await uow.repos.planning.delete(waiting)
        return None
    result = await book(uow, planning, waiting.family_id, child, service.id, day, now, actor=None)
    if result.outcome not in (BookingOutcome.BOOKED, BookingOutcome.PENDING):
        return None
    params = {
        "child_id": child.id,
        "child": child.first_name,
        "services": list(result.services),
        "day": day.isoformat(),
        "pending": result.outcome == BookingOutcome.PENDING,
    }
    await tell_family(uow, waiting.family_id, PLACE_FREED, params, now=now)
    return waiting.family_id


async def _set_status(
    uow: UnitOfWork,
    entry: DayEntry | None,
    child: Child,
    service: Service,
    family_id: int,
    day: dt.date,
    status: DayStatus,
    now: dt.datetime,
    actor: int | None,
    request: Request | None,
    *,
    note: str | None = None,
) -> DayEntry:
    previous = entry.status if entry is not None else None
    if entry is None:
        entry = DayEntry(
            child_id=child.id, service_id=service.id, family_id=family_id, day=day, status=status
        )
        uow.repos.planning.add(entry)
    entry.status = status
    entry.family_id = family_id
    entry.request_id = request.id if request is not None else None
    entry.updated_at = now
    await uow.session.flush()
    uow.repos.planning.add(
        DayEntryEvent(
            day_entry_id=entry.id,
            at=now,
            actor_telegram_id=actor,
            actor_kind="parent" if actor is not None else "system",
            from_status=previous,
            to_status=status,
            request_id=request.id if request is not None else None,
            note=note or None,
        )
    )
    return entry


async def set_day_status(
    uow: UnitOfWork,
    entry: DayEntry,
    status: DayStatus,
    now: dt.datetime,
    *,
    actor: int | None,
    actor_kind: str,
    request_id: int | None,
    note: str | None = None,
) -> None:
    """Change an existing day entry's status with its history (used by staff decisions)."""
    uow.repos.planning.add(
        DayEntryEvent(
            day_entry_id=entry.id,
            at=now,
            actor_telegram_id=actor,
            actor_kind=actor_kind,
            from_status=entry.status,
            to_status=status,
            request_id=request_id,
            note=note,
        )
    )
    entry.status = status
    entry.updated_at = now


async def _group_services(
    uow: UnitOfWork, planning: Planning, family_id: int, child: Child, service_id: int, day: dt.date
) -> list[Service] | None:
    enrolments = await uow.repos.planning.enrolments(family_id, child.id, day, day)
    main = next((e.service for e in enrolments if e.service_id == service_id), None)
    if main is None:
        return None
    enrolled = {e.service.code: e.service for e in enrolments}
    group = []
    for code in planning.group(main.code):
        if code not in enrolled:
            return None
        group.append(enrolled[code])
    return group


async def _enrolled_service(
    uow: UnitOfWork, family_id: int, child: Child, service_id: int, day: dt.date
) -> Service | None:
    for enrolment in await uow.repos.planning.enrolments(family_id, child.id, day, day):
        if enrolment.service_id == service_id:
            return enrolment.service
    return None


async def _child_days(
    uow: UnitOfWork, child_id: int, service_id: int, day: dt.date
) -> frozenset[dt.date]:
    window = dt.timedelta(days=62)
    entries = await uow.repos.planning.entries(child_id, day - window, day + window)
    return frozenset(
        e.day for e in entries if e.service_id == service_id and e.status in PLACE_HOLDING_STATUSES
    )


def _runs(planning: Planning, code: str, day: dt.date) -> bool:
    try:
        return planning.calendar.runs(code, planning.service(code).rules.schedule, day)
    except SchoolCalendarUnavailableError:
        return False


def describe_reason(decision: Decision | None) -> Reason | None:
    """The refusal reason of a decision, if any."""
    return decision.reason if decision is not None else None


def payload_services(payload: dict[str, Any]) -> list[str]:
    """The service codes a booking or absence request names."""
    return [str(code) for code in payload.get("services", [])]


class ProofOutcome(StrEnum):
    """What became of a proof (doctor's certificate) sent for an absence."""

    EXPECTED = "expected"  # the absence waits for staff: a certificate may be sent
    ATTACHED = "attached"
    ALREADY_DECIDED = "already_decided"


@dataclass(frozen=True)
class ProofResult:
    """Outcome of attaching a proof."""

    outcome: ProofOutcome
    request_id: int | None = None


async def _absence_request(
    uow: UnitOfWork, family_id: int, request_id: int, *, actor: int, now: dt.datetime
) -> Request:
    """The family's absence request, or `NotAllowed` (audited) when it is not theirs."""
    request = await uow.repos.requests.get(request_id)
    if request is None or request.family_id != family_id or request.kind != RequestKind.ABSENCE:
        await refuse_foreign(uow, family_id, f"request:{request_id}", actor=actor, now=now)
        raise NotAllowed()
    return request


async def proof_expected(
    db: Database, telegram_user_id: int, request_id: int, now: dt.datetime
) -> ProofOutcome:
    """Whether the family's absence request still takes a certificate (EXPECTED) or is decided."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        request = await _absence_request(
            uow, family_id, request_id, actor=telegram_user_id, now=now
        )
        return (
            ProofOutcome.EXPECTED
            if request.status == RequestStatus.PENDING
            else ProofOutcome.ALREADY_DECIDED
        )


async def attach_proof(
    db: Database, telegram_user_id: int, request_id: int, file_id: str, kind: str, now: dt.datetime
) -> ProofResult:
    """Attach a doctor's certificate (photo or PDF) to the family's pending absence request.

    Staff see it on the request's card when the card is still to be posted (it is rendered
    when sent); otherwise the certificate follows the card in the admin group (an outbox row
    of this transaction, `CERTIFICATE`).
    """
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        request = await _absence_request(
            uow, family_id, request_id, actor=telegram_user_id, now=now
        )
        if request.status != RequestStatus.PENDING:
            return ProofResult(ProofOutcome.ALREADY_DECIDED, request.id)
        request.attachment_file_id = file_id
        request.attachment_kind = kind
        request.payload = {**request.payload, "proof_at": now.isoformat()}
        if not await _card_still_to_post(uow, request.id, now):
            await tell_staff(
                uow, CERTIFICATE, {"request_id": request.id}, now=now, family_id=family_id
            )
            if (
                request.admin_message_id is not None and request.admin_message_id > 0
            ):  # the card says it came
                await tell_staff(
                    uow,
                    CARD_UPDATE_TEMPLATE,
                    {"request_id": request.id},
                    now=now,
                    family_id=family_id,
                )
        return ProofResult(ProofOutcome.ATTACHED, request.id)


CARD_BACKLOG = 200
"""How many waiting cards are looked through; beyond, the certificate is sent anyway (twice at worst)."""


async def _card_still_to_post(uow: UnitOfWork, request_id: int, now: dt.datetime) -> bool:
    """True while the request's card waits in the outbox, not yet taken by the sender."""
    waiting = await uow.repos.outbox.pending_of(
        STAFF, [CARD_TEMPLATE, REOPENED_TEMPLATE], now, CARD_BACKLOG
    )
    return any(row.params.get("request_id") == request_id for row in waiting)


@dataclass(frozen=True)
class Certificate:
    """A certificate to show staff after its request's card."""

    request_id: int
    file_id: str
    kind: str  # "photo" or "document"


async def certificate_to_forward(db: Database, request_id: int) -> Certificate | None:
    """The request's certificate (None when there is none)."""
    async with use_case(db) as uow:
        request = await uow.repos.requests.get(request_id)
        if request is None or request.attachment_file_id is None:
            return None
        return Certificate(
            request.id, request.attachment_file_id, request.attachment_kind or "document"
        )


class GroupAction(StrEnum):
    """What a parent does for several children at once."""

    BOOK = "book"
    CANCEL = "cancel"
    ABSENCE = "absence"


async def _act_for_each_child(
    uow: UnitOfWork,
    planning: Planning,
    family_id: int,
    service_id: int,
    day: dt.date,
    now: dt.datetime,
    *,
    actor: int | None,
    action: GroupAction,
    reason: AbsenceReason | None = None,
    accept_late: bool = False,
) -> list[tuple[Child, ActionResult]]:
    """Book, cancel or declare an absence for every child of the family enrolled in the
    service that day; each child is checked on its own and gets its own outcome."""
    results = []
    for child in await uow.repos.families.children(family_id):
        if await _enrolled_service(uow, family_id, child, service_id, day) is None:
            continue
        if action == GroupAction.BOOK:
            result = await book(uow, planning, family_id, child, service_id, day, now, actor=actor)
        else:
            result = await cancel(
                uow,
                planning,
                family_id,
                child,
                service_id,
                day,
                now,
                actor=actor,
                accept_late=accept_late,
                reason=reason if action == GroupAction.ABSENCE else None,
            )
        results.append((child, result))
    return results


@dataclass(frozen=True)
class DayHistory:
    """One child's service on a day, with every change made to it."""

    child_name: str
    service_name: str
    status: DayStatus
    events: tuple[DayEntryEvent, ...]


async def day_history(
    uow: UnitOfWork, structure: Structure, family_number: str, day: dt.date
) -> list[DayHistory] | None:
    """Who changed what, when and from which request, for a family's children on a day (staff).

    None when no family has that number.
    """
    family = await uow.repos.families.get_by_number(family_number)
    if family is None:
        return None
    names = {s.code: s.name for s in structure.services}
    services = {s.id: s.code for s in await uow.repos.structure.services()}
    result = []
    for child in await uow.repos.families.children(family.id):
        for entry in await uow.repos.planning.entries(child.id, day, day):
            if entry.family_id != family.id:
                continue
            code = services.get(entry.service_id, "?")
            events = tuple(await uow.repos.planning.history(entry.id))
            result.append(DayHistory(child.first_name, names.get(code, code), entry.status, events))
    return result


# --- use cases: each opens its transaction, commits once and returns plain data -----------


class DayAction(StrEnum):
    """What a parent does on one service of one child's day."""

    BOOK = "book"
    CANCEL = "cancel"  # a booking (or, still waiting for staff, withdraw the request)
    ABSENCE = "absence"  # with a reason
    WAIT = "wait"  # join a full day's waiting list


@dataclass(frozen=True)
class MonthView:
    """A month to show, and which of the family's children it shows (their ids)."""

    planning: MonthPlanning
    child_ids: tuple[int, ...]


@dataclass(frozen=True)
class PlanningStart:
    """The Planning tab: the family's children, and the month at once when there is only one."""

    children: tuple[Child, ...]
    month: MonthView | None = None


@dataclass(frozen=True)
class DayView:
    """One child's day: each enrolled service with its status and what can be done now."""

    child: Child
    day: dt.date
    services: list[ServiceDay]
    now: dt.datetime | None = None
    closure_reason: str | None = None  # the whole structure is closed that day, why
    public_holiday: str | None = None  # its name ("Noël")
    school_holidays: str | None = None  # the holidays' name ("Vacances de Noël")


@dataclass(frozen=True)
class DayActionResult:
    """What one action did, and the day as it now stands."""

    result: ActionResult
    view: DayView


@dataclass(frozen=True)
class FamilyDay:
    """Every child of the family on one day."""

    day: dt.date
    children: tuple[tuple[Child, list[ServiceDay]], ...]
    views: tuple[DayView, ...] = ()  # each child's day, with why nothing runs when nothing does


@dataclass(frozen=True)
class FamilyActionResult:
    """What a "for all" action did child by child, and the family's day as it now stands."""

    results: tuple[tuple[Child, ActionResult], ...]
    view: FamilyDay

    @property
    def late(self) -> list[tuple[Child, ActionResult]]:
        """The children whose action waits for the parent to accept a late consequence."""
        return [
            (child, result)
            for child, result in self.results
            if result.outcome == BookingOutcome.LATE_CONSENT_NEEDED
        ]

    @property
    def done(self) -> list[tuple[Child, ActionResult]]:
        """The children whose action got its outcome."""
        return [
            (child, result)
            for child, result in self.results
            if result.outcome != BookingOutcome.LATE_CONSENT_NEEDED
        ]


@dataclass(frozen=True)
class PatternChoice:
    """What "book several days" offers: the children, until when, and which services."""

    children: tuple[Child, ...]
    last: dt.date
    offered: frozenset[str]  # codes of the services at least one chosen child is enrolled in
    service_ids: dict[str, int] = field(default_factory=dict)  # code → id of the offered services
    holidays: tuple[dt.date, dt.date] | None = (
        None  # the next holidays, when a holiday service is offered
    )


@dataclass(frozen=True)
class PatternBooking:
    """A weekly pattern booked: each chosen child with its days."""

    children: tuple[Child, ...]
    outcomes: tuple[tuple[Child, list[PatternDay]], ...]


PATTERN_HORIZON = dt.timedelta(days=120)


async def open_planning(
    db: Database, telegram_user_id: int, *, structure: Structure, tz: dt.tzinfo, now: dt.datetime
) -> PlanningStart:
    """The family's children, with this month's planning when there is only one child."""
    async with family_use_case(db, telegram_user_id, read_only=True) as (uow, family_id):
        children = tuple(await children_of_family(uow, family_id))
        if len(children) != 1:
            return PlanningStart(children)
        month = Month.of(now.astimezone(tz).date())
        planning = await load_planning(uow, structure, tz, month.first_day(), month.last_day())
        return PlanningStart(
            children,
            MonthView(
                await month_planning(uow, planning, family_id, children[0], month),
                (children[0].id,),
            ),
        )


async def show_month(
    db: Database,
    telegram_user_id: int,
    child_id: int | None,
    month: Month,
    *,
    structure: Structure,
    tz: dt.tzinfo,
    now: dt.datetime,
) -> MonthView:
    """One child's month, or (`child_id` None) all the family's children together."""
    async with family_use_case(db, telegram_user_id, read_only=True) as (uow, family_id):
        children = list(await children_of_family(uow, family_id))
        if child_id is None and not children:
            raise NotAllowed()
        planning = await load_planning(uow, structure, tz, month.first_day(), month.last_day())
        if child_id is None:
            return MonthView(
                await family_month_planning(uow, planning, family_id, children, month),
                tuple(c.id for c in children),
            )
        child = next((c for c in children if c.id == child_id), None) or await child_of_family(
            uow, family_id, child_id, actor=telegram_user_id, now=now
        )  # not one of the family's: refused and audited there
        return MonthView(await month_planning(uow, planning, family_id, child, month), (child.id,))


async def show_day(
    db: Database,
    telegram_user_id: int,
    child_id: int,
    day: dt.date,
    *,
    structure: Structure,
    tz: dt.tzinfo,
    now: dt.datetime,
) -> DayView:
    """One child's services on a day, with what can be done now."""
    async with family_use_case(db, telegram_user_id, read_only=True) as (uow, family_id):
        child = await child_of_family(uow, family_id, child_id, actor=telegram_user_id, now=now)
        planning = await load_planning(uow, structure, tz, day, day)
        return await _day_view(uow, planning, family_id, child, day, now)


async def check_family_child(
    db: Database, telegram_user_id: int, child_id: int, *, now: dt.datetime
) -> None:
    """Before asking why a child will be absent: `NotLinked` for an account no longer linked,
    `ChildNotInFamily` (audited) for a child of another family; nothing is written otherwise."""
    async with family_use_case(db, telegram_user_id, read_only=True) as (uow, family_id):
        await child_of_family(uow, family_id, child_id, actor=telegram_user_id, now=now)


async def act_on_day(
    db: Database,
    telegram_user_id: int,
    action: DayAction,
    child_id: int,
    service_id: int,
    day: dt.date,
    *,
    structure: Structure,
    tz: dt.tzinfo,
    now: dt.datetime,
    accept_late: bool = False,
    reason: AbsenceReason | None = None,
    note: str | None = None,
) -> DayActionResult:
    """Book, cancel, declare an absence or join the waiting list on one service of a child's day.

    `note` is the reason a parent typed for an absence ("✏️ Autre"): on the request staff
    decide, and in the day's history.

    After a deadline whose consequence is billing, nothing changes until the parent accepts it
    (`accept_late`): the outcome is then `LATE_CONSENT_NEEDED`, with the deadline passed.
    """
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        child = await child_of_family(uow, family_id, child_id, actor=telegram_user_id, now=now)
        planning = await load_planning(uow, structure, tz, day, day)
        if action == DayAction.BOOK:
            result = await book(
                uow, planning, family_id, child, service_id, day, now, actor=telegram_user_id
            )
        elif action == DayAction.WAIT:
            result = await join_waiting_list(uow, planning, family_id, child, service_id, day, now)
        else:
            absence = (reason or AbsenceReason.OTHER) if action == DayAction.ABSENCE else None
            result = await cancel(
                uow,
                planning,
                family_id,
                child,
                service_id,
                day,
                now,
                actor=telegram_user_id,
                accept_late=accept_late,
                reason=absence,
                note=note if absence is not None else None,
            )
        view = await _day_view(uow, planning, family_id, child, day, now)
        return DayActionResult(result, view)


async def family_day(
    db: Database,
    telegram_user_id: int,
    day: dt.date,
    *,
    structure: Structure,
    tz: dt.tzinfo,
    now: dt.datetime,
) -> FamilyDay:
    """Every child's services on a day ("tous mes enfants")."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        planning = await load_planning(uow, structure, tz, day, day)
        return await _family_day(uow, planning, family_id, day, now)


async def act_for_children(
    db: Database,
    telegram_user_id: int,
    action: GroupAction,
    service_id: int,
    day: dt.date,
    *,
    structure: Structure,
    tz: dt.tzinfo,
    now: dt.datetime,
    reason: AbsenceReason | None = None,
    accept_late: bool = False,
) -> FamilyActionResult:
    """Book, cancel or declare an absence for every child enrolled in the service that day.

    Each child gets its own outcome; those past a billing deadline wait for the parent's
    consent (`LATE_CONSENT_NEEDED`) while the others are done, with everything they cause
    (requests to staff, freed places told to the waiting families) in this transaction.
    """
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        planning = await load_planning(uow, structure, tz, day, day)
        results = await _act_for_each_child(
            uow,
            planning,
            family_id,
            service_id,
            day,
            now,
            actor=telegram_user_id,
            action=action,
            reason=reason,
            accept_late=accept_late,
        )
        return FamilyActionResult(
            tuple(results), await _family_day(uow, planning, family_id, day, now)
        )


async def pattern_choice(
    db: Database,
    telegram_user_id: int,
    child_ids: frozenset[int],
    *,
    structure: Structure,
    tz: dt.tzinfo,
    now: dt.datetime,
) -> PatternChoice:
    """What "book several days" offers the chosen children (by id; a foreign id is refused)."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        today = now.astimezone(tz).date()
        planning = await load_planning(uow, structure, tz, today, today + PATTERN_HORIZON)
        last = next_holidays_start(planning, today)
        children = tuple(await children_of_family(uow, family_id))
        holidays = _next_holidays(planning, last)
        until = holidays.end if holidays is not None else last
        offered: dict[str, int] = {}
        for child in await _chosen_children(
            uow, family_id, children, child_ids, actor=telegram_user_id, now=now
        ):
            offered |= {
                e.service.code: e.service.id
                for e in await uow.repos.planning.enrolments(family_id, child.id, today, until)
            }
        in_holidays = holidays is not None and any(
            _holidays_only(planning, code) for code in offered
        )
        period = (
            (max(today, holidays.start), holidays.end)
            if holidays is not None and in_holidays
            else None
        )
        return PatternChoice(children, last, frozenset(offered), offered, period)


async def book_weekly_pattern(
    db: Database,
    telegram_user_id: int,
    child_ids: frozenset[int],
    weekdays: frozenset[int],
    service_ids: frozenset[int],
    *,
    structure: Structure,
    tz: dt.tzinfo,
    now: dt.datetime,
) -> PatternBooking:
    """Book the chosen services (by id) on the chosen weekdays, from today until the next
    holidays — a service that runs only in the holidays, over those next holidays (so their
    weekly minimum can be met at once) — for each chosen child (by id; a foreign id is
    refused) in the services it is enrolled in."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        today = now.astimezone(tz).date()
        planning = await load_planning(uow, structure, tz, today, today + PATTERN_HORIZON)
        last = next_holidays_start(planning, today)
        holidays = _next_holidays(planning, last)
        children = tuple(await children_of_family(uow, family_id))
        outcomes = []
        for child in await _chosen_children(
            uow, family_id, children, child_ids, actor=telegram_user_id, now=now
        ):
            until = holidays.end if holidays is not None else last
            enrolled = {
                e.service.id: e.service
                for e in await uow.repos.planning.enrolments(family_id, child.id, today, until)
            }
            chosen = [service_id for service_id in enrolled if service_id in service_ids]
            term = [i for i in chosen if not _holidays_only(planning, enrolled[i].code)]
            days = await book_pattern(
                uow,
                planning,
                family_id,
                child,
                term,
                weekdays,
                today,
                last,
                now,
                actor=telegram_user_id,
            )
            in_holidays = [i for i in chosen if i not in term]
            if holidays is not None and in_holidays:
                days += await book_pattern(
                    uow,
                    planning,
                    family_id,
                    child,
                    in_holidays,
                    weekdays,
                    max(today, holidays.start),
                    holidays.end,
                    now,
                    actor=telegram_user_id,
                )
            outcomes.append((child, days))
        return PatternBooking(children, tuple(outcomes))


def _next_holidays(planning: Planning, last: dt.date) -> SchoolHolidayPeriod | None:
    """The school holidays starting after `last` (the last day before them)."""
    try:
        return planning.calendar.school_holidays(last + dt.timedelta(days=1))
    except SchoolCalendarUnavailableError:
        return None


def _holidays_only(planning: Planning, code: str) -> bool:
    return Period.SCHOOL_TERM not in planning.service(code).rules.schedule.periods


async def _day_view(
    uow: UnitOfWork,
    planning: Planning,
    family_id: int,
    child: Child,
    day: dt.date,
    now: dt.datetime,
) -> DayView:
    """The child's day, with why the structure does not run that day when it does not."""
    calendar = planning.calendar
    closure = calendar.closure(day)
    try:
        holidays = calendar.school_holidays(day)
    except SchoolCalendarUnavailableError:
        holidays = None
    return DayView(
        child,
        day,
        await day_services(uow, planning, family_id, child, day, now),
        now=now,
        closure_reason=closure.reason if closure is not None else None,
        public_holiday=calendar.public_holiday(day),
        school_holidays=holidays.name if holidays is not None else None,
    )


async def _family_day(
    uow: UnitOfWork, planning: Planning, family_id: int, day: dt.date, now: dt.datetime
) -> FamilyDay:
    views = tuple(
        [
            await _day_view(uow, planning, family_id, child, day, now)
            for child in await children_of_family(uow, family_id)
        ]
    )
    return FamilyDay(day, tuple((view.child, view.services) for view in views), views)


async def _chosen_children(
    uow: UnitOfWork,
    family_id: int,
    children: Sequence[Child],
    child_ids: frozenset[int],
    *,
    actor: int,
    now: dt.datetime,
) -> list[Child]:
    """The family's children named by id, in the family's order; `NotAllowed` (audited) for an
    id that is not one of them (another family's child, or one no longer there)."""
    for child_id in sorted(child_ids - {c.id for c in children}):
        await child_of_family(uow, family_id, child_id, actor=actor, now=now)
    return [child for child in children if child.id in child_ids]
