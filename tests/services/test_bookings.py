"""Booking use cases on the demo structure: rules, capacity, waiting list, history, races, and
the messages they leave in the outbox (a freed place, a request's card, a certificate).

Today is Monday 23 November 2026 (zone C); school runs Monday, Tuesday, Thursday, Friday.
Jean (account 101) is linked to the DUPONT family, Sophie (202) to the MARTIN family.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.model import AbsenceReason, DayStatus, RequestKind, RequestStatus
from bot.domain.planning import Month
from bot.domain.rules import BelowMinimum, Reason
from bot.services import (
    booking_requests,  # noqa: F401 - registers the request types
    bookings,
)
from bot.services.bookings import BookingOutcome, DayAction, GroupAction, ProofOutcome
from bot.services.children import ACTION_OWNERSHIP_REFUSED
from bot.services.requests import decide_request
from bot.services.use_case import NotAllowed
from bot.structure import Structure
from storage.db import Database
from tests.support import holidays
from tests.support.money import link_account

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)  # Monday 09:00
THURSDAY = dt.date(2026, 12, 3)
TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)
DUPONT, MARTIN = "1001001818331", "1001001818332"
ACCOUNTS = {DUPONT: 101, MARTIN: 202}
with_capacity = holidays.with_capacity


@pytest.fixture
async def demo_database(demo_database: Database) -> Database:
    """The demo families, each with its parent's account linked."""
    for number, user_id in ACCOUNTS.items():
        await link_account(demo_database, number, user_id)
    return demo_database


@pytest.fixture
async def any_demo_database(any_demo_database: Database) -> Database:
    """The same on each engine."""
    for number, user_id in ACCOUNTS.items():
        await link_account(any_demo_database, number, user_id)
    return any_demo_database


async def _ids(db: Database, number: str, first_name: str) -> tuple[int, int]:
    async with db.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        child = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == first_name
        )
        return family.id, child.id


async def _service_id(db: Database, code: str) -> int:
    async with db.unit_of_work() as uow:
        return (await uow.repos.structure.service_by_code(code)).id


async def act(
    db: Database,
    structure: Structure,
    number: str,
    name: str,
    code: str,
    day: dt.date,
    now: dt.datetime = NOW,
    what: DayAction = DayAction.BOOK,
    **kwargs,
):  # type: ignore[no-untyped-def]
    """The family's parent taps an action on a child's day (one use case, one transaction)."""
    _, child_id = await _ids(db, number, name)
    service_id = await _service_id(db, code)
    done = await bookings.act_on_day(
        db,
        ACCOUNTS[number],
        what,
        child_id,
        service_id,
        day,
        structure=structure,
        tz=PARIS,
        now=now,
        **kwargs,
    )
    assert done.view.day == day and done.view.child.id == child_id
    return done.result


async def outbox(db: Database, template: str, **params):  # type: ignore[no-untyped-def]
    async with db.unit_of_work() as uow:
        return await uow.repos.outbox.of_template(template, **params)


async def status_of(
    db: Database, number: str, name: str, code: str, day: dt.date
) -> DayStatus | None:
    _, child_id = await _ids(db, number, name)
    service_id = await _service_id(db, code)
    async with db.unit_of_work() as uow:
        entry = await uow.repos.planning.entry(child_id, service_id, day)
        return entry.status if entry else None


@pytest.mark.parametrize(
    ("code", "day", "now", "outcome", "status"),
    [
        ("cantine", THURSDAY, NOW, BookingOutcome.BOOKED, DayStatus.RESERVED),
        (
            "cantine",
            dt.date(2026, 11, 26),
            NOW,
            BookingOutcome.REFUSED,
            None,
        ),  # week closed last Friday 12:00
        (
            "garderie_matin",
            TUESDAY,
            dt.datetime(2026, 11, 23, 18, 29, tzinfo=PARIS),
            BookingOutcome.BOOKED,
            DayStatus.RESERVED,
        ),
        (
            "garderie_matin",
            TUESDAY,
            dt.datetime(2026, 11, 23, 18, 30, tzinfo=PARIS),
            BookingOutcome.REFUSED,
            None,
        ),
        (
            "alsh_mercredi",
            WEDNESDAY,
            dt.datetime(2026, 11, 23, 9, 59, tzinfo=PARIS),
            BookingOutcome.PENDING,
            DayStatus.BOOKING_PROCESSING,
        ),
        (
            "alsh_mercredi",
            WEDNESDAY,
            dt.datetime(2026, 11, 23, 10, 0, tzinfo=PARIS),
            BookingOutcome.REFUSED,
            None,
        ),
        ("cantine", dt.date(2026, 12, 25), NOW, BookingOutcome.REFUSED, None),  # Christmas
    ],
)
async def test_booking_follows_the_rules(
    demo_database: Database, structure: Structure, code, day, now, outcome, status
) -> None:  # type: ignore[no-untyped-def]
    result = await act(demo_database, structure, DUPONT, "LUCAS", code, day, now)
    assert result.outcome == outcome, result
    assert await status_of(demo_database, DUPONT, "LUCAS", code, day) == status
    if outcome == BookingOutcome.REFUSED and code == "cantine" and day.month == 11:
        assert result.decision.reason == Reason.TOO_LATE
        assert result.decision.deadline == dt.datetime(2026, 11, 20, 12, 0, tzinfo=PARIS)


async def test_garderie_soir_books_and_cancels_the_gouter_with_it(
    demo_database: Database, structure: Structure
) -> None:
    result = await act(demo_database, structure, DUPONT, "LUCAS", "garderie_soir", TUESDAY)
    assert result.outcome == BookingOutcome.BOOKED and set(result.services) == {
        "garderie_soir",
        "gouter",
    }
    assert await status_of(demo_database, DUPONT, "LUCAS", "gouter", TUESDAY) == DayStatus.RESERVED
    result = await act(
        demo_database,
        structure,
        DUPONT,
        "LUCAS",
        "gouter",
        TUESDAY,
        dt.datetime(2026, 11, 24, 8, 0, tzinfo=PARIS),
        what=DayAction.CANCEL,
    )
    assert result.outcome == BookingOutcome.CANCELLED
    assert (
        await status_of(demo_database, DUPONT, "LUCAS", "garderie_soir", TUESDAY)
        == DayStatus.CANCELLED
    )


async def test_a_double_tap_books_once(demo_database: Database, structure: Structure) -> None:
    first = await act(demo_database, structure, DUPONT, "LUCAS", "cantine", THURSDAY)
    second = await act(demo_database, structure, DUPONT, "LUCAS", "cantine", THURSDAY)
    assert (first.outcome, second.outcome) == (BookingOutcome.BOOKED, BookingOutcome.ALREADY)
    _, child_id = await _ids(demo_database, DUPONT, "LUCAS")
    async with demo_database.unit_of_work() as uow:
        entry = await uow.repos.planning.entry(
            child_id, await _service_id(demo_database, "cantine"), THURSDAY
        )
        history = await uow.repos.planning.history(entry.id)
    assert [(e.from_status, e.to_status, e.actor_telegram_id) for e in history] == [
        (None, DayStatus.RESERVED, 101)
    ]


async def test_cancel_in_time_is_free_late_needs_consent_then_staff_decide(
    demo_database: Database, structure: Structure
) -> None:
    await act(demo_database, structure, DUPONT, "LUCAS", "garderie_soir", TUESDAY)
    morning = dt.datetime(2026, 11, 24, 9, 30, tzinfo=PARIS)  # after 09:00 the same day
    refused = await act(
        demo_database,
        structure,
        DUPONT,
        "LUCAS",
        "garderie_soir",
        TUESDAY,
        morning,
        what=DayAction.CANCEL,
    )
    assert refused.outcome == BookingOutcome.LATE_CONSENT_NEEDED
    assert refused.deadline == dt.datetime(2026, 11, 24, 9, 0, tzinfo=PARIS)
    assert (
        await status_of(demo_database, DUPONT, "LUCAS", "garderie_soir", TUESDAY)
        == DayStatus.RESERVED
    )
    late = await act(
        demo_database,
        structure,
        DUPONT,
        "LUCAS",
        "garderie_soir",
        TUESDAY,
        morning,
        what=DayAction.CANCEL,
        accept_late=True,
    )
    assert late.outcome == BookingOutcome.ABSENCE_PENDING and late.request_id is not None
    assert len(await outbox(demo_database, "staff.request_card", request_id=late.request_id)) == 1
    assert (
        await status_of(demo_database, DUPONT, "LUCAS", "gouter", TUESDAY)
        == DayStatus.ABSENCE_PROCESSING
    )
    async with demo_database.unit_of_work() as uow:
        await decide_request(
            uow,
            late.request_id,
            accept=False,
            staff_id=9,
            staff_name="Claire",
            now=morning,
            reason="Hors délai",
        )
        await uow.commit()
    assert (
        await status_of(demo_database, DUPONT, "LUCAS", "garderie_soir", TUESDAY)
        == DayStatus.ABSENT_BILLED
    )


async def test_staff_accepting_a_booking_request_reserves_the_day(
    demo_database: Database, structure: Structure
) -> None:
    early = dt.datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
    result = await act(demo_database, structure, DUPONT, "EMMA", "alsh_mercredi", WEDNESDAY, early)
    async with demo_database.unit_of_work() as uow:
        request = await uow.repos.requests.get(result.request_id)
        assert request.kind == RequestKind.BOOKING and request.status == RequestStatus.PENDING
        cards = await uow.repos.outbox.of_template(
            "staff.request_card", request_id=result.request_id
        )
        assert [(card.audience, card.family_id) for card in cards] == [("staff", request.family_id)]
        await decide_request(
            uow, result.request_id, accept=True, staff_id=9, staff_name="Claire", now=early
        )
        await uow.commit()
    assert (
        await status_of(demo_database, DUPONT, "EMMA", "alsh_mercredi", WEDNESDAY)
        == DayStatus.RESERVED
    )


async def test_full_day_waiting_list_gets_the_freed_place(
    demo_database: Database, structure: Structure
) -> None:
    tight = with_capacity(structure, "cantine", 1)
    assert (
        await act(demo_database, tight, DUPONT, "LUCAS", "cantine", THURSDAY)
    ).outcome == BookingOutcome.BOOKED
    full = await act(demo_database, tight, MARTIN, "CHLOÉ", "cantine", THURSDAY)
    assert full.outcome == BookingOutcome.REFUSED and full.decision.reason == Reason.FULL
    assert (
        await act(demo_database, tight, MARTIN, "CHLOÉ", "cantine", THURSDAY, what=DayAction.WAIT)
    ).outcome == BookingOutcome.WAITING_LIST
    assert (
        await act(demo_database, tight, MARTIN, "CHLOÉ", "cantine", THURSDAY, what=DayAction.WAIT)
    ).outcome == BookingOutcome.ALREADY
    assert await outbox(demo_database, bookings.PLACE_FREED) == []
    freed = await act(
        demo_database, tight, DUPONT, "LUCAS", "cantine", THURSDAY, what=DayAction.CANCEL
    )
    martin_id, chloe_id = await _ids(demo_database, MARTIN, "CHLOÉ")
    assert freed.outcome == BookingOutcome.CANCELLED and freed.freed_for == (martin_id,)
    assert (
        await status_of(demo_database, MARTIN, "CHLOÉ", "cantine", THURSDAY) == DayStatus.RESERVED
    )
    told = await outbox(demo_database, bookings.PLACE_FREED)
    assert [(row.chat_id, row.family_id, row.params) for row in told] == [
        (
            202,
            martin_id,
            {
                "child_id": chloe_id,
                "child": "CHLOÉ",
                "services": ["cantine"],
                "day": "2026-12-03",
                "pending": False,
            },
        )
    ]


async def test_two_families_racing_for_the_last_place_one_wins(
    any_demo_database: Database, structure: Structure
) -> None:
    tight = with_capacity(structure, "cantine", 1)
    results = await asyncio.gather(
        act(any_demo_database, tight, DUPONT, "LUCAS", "cantine", THURSDAY),
        act(any_demo_database, tight, MARTIN, "CHLOÉ", "cantine", THURSDAY),
    )
    assert sorted(r.outcome for r in results) == [BookingOutcome.BOOKED, BookingOutcome.REFUSED]
    statuses = [
        await status_of(any_demo_database, n, c, "cantine", THURSDAY)
        for n, c in ((DUPONT, "LUCAS"), (MARTIN, "CHLOÉ"))
    ]
    assert statuses.count(DayStatus.RESERVED) == 1


async def test_another_familys_child_is_refused_and_audited(
    demo_database: Database, structure: Structure
) -> None:
    _, lucas_id = await _ids(demo_database, DUPONT, "LUCAS")
    cantine = await _service_id(demo_database, "cantine")
    with pytest.raises(NotAllowed):  # Sophie forges a button naming LUCAS
        await bookings.act_on_day(
            demo_database,
            202,
            DayAction.BOOK,
            lucas_id,
            cantine,
            THURSDAY,
            structure=structure,
            tz=PARIS,
            now=NOW,
        )
    with pytest.raises(NotAllowed):
        await bookings.show_month(
            demo_database, 202, lucas_id, Month.of(THURSDAY), structure=structure, tz=PARIS, now=NOW
        )
    async with demo_database.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
    assert [(a.actor_telegram_id, a.outcome, a.target) for a in audit] == [
        (202, "refused", f"child:{lucas_id}")
    ] * 2
    assert await status_of(demo_database, DUPONT, "LUCAS", "cantine", THURSDAY) is None


async def test_weekly_pattern_reports_every_day(
    demo_database: Database, structure: Structure
) -> None:
    choice = await bookings.pattern_choice(
        demo_database, 101, frozenset(), structure=structure, tz=PARIS, now=NOW
    )
    lucas = next(child.id for child in choice.children if child.first_name == "LUCAS")
    choice = await bookings.pattern_choice(
        demo_database, 101, frozenset({lucas}), structure=structure, tz=PARIS, now=NOW
    )
    last = choice.last
    assert "cantine" in choice.offered and "alsh_vacances" in choice.offered
    booking = await bookings.book_weekly_pattern(
        demo_database,
        101,
        frozenset({lucas}),
        frozenset({0, 3}),
        frozenset({choice.service_ids["cantine"]}),
        structure=structure,
        tz=PARIS,
        now=NOW,
    )
    assert [child.first_name for child, _days in booking.outcomes] == ["LUCAS"]
    days = booking.outcomes[0][1]
    assert last == dt.date(2026, 12, 18)  # Friday before the Christmas holidays (zone C)
    booked = [d.day for d in days if d.result.outcome == BookingOutcome.BOOKED]
    refused = [d.day for d in days if d.result.outcome == BookingOutcome.REFUSED]
    assert refused == [dt.date(2026, 11, 23), dt.date(2026, 11, 26)]  # this week is closed
    assert booked == [
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 10),
        dt.date(2026, 12, 14),
        dt.date(2026, 12, 17),
    ]


async def test_weekly_pattern_refuses_another_familys_child_by_id(
    demo_database: Database, structure: Structure
) -> None:
    _, emma_martin = await _ids(demo_database, MARTIN, (await _first_child(demo_database, MARTIN)))
    cantine = await _service_id(demo_database, "cantine")
    with pytest.raises(NotAllowed):
        await bookings.book_weekly_pattern(
            demo_database,
            101,
            frozenset({emma_martin}),
            frozenset({0}),
            frozenset({cantine}),
            structure=structure,
            tz=PARIS,
            now=NOW,
        )
    assert (
        await status_of(
            demo_database,
            MARTIN,
            await _first_child(demo_database, MARTIN),
            "cantine",
            dt.date(2026, 11, 30),
        )
        is None
    )


async def _first_child(db: Database, number: str) -> str:
    async with db.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        return (await uow.repos.families.children(family.id))[0].first_name


async def test_a_closure_moves_the_next_days_deadline_on_every_path(
    demo_database: Database, structure: Structure
) -> None:
    """Monday 14 December 2026 is closed (decided on Thursday 10): Tuesday 15's garderie matin
    closes on Friday 11 at 18:30 (the previous open day) in the day view, in "Réserver
    plusieurs jours", for a booking, and for the staff headcount at that cutoff."""
    from bot.domain.reminders import ReminderKind
    from bot.services import reminders, staff_day

    tuesday, friday_cutoff = dt.date(2026, 12, 15), dt.datetime(2026, 12, 11, 18, 30, tzinfo=PARIS)
    thursday = dt.datetime(2026, 12, 10, 9, 0, tzinfo=PARIS)
    closed = await staff_day.close_day(
        demo_database,
        day=dt.date(2026, 12, 14),
        service_code=None,
        reason="Formation",
        staff_id=900,
        now=thursday,
        today=thursday.date(),
    )
    assert closed.outcome == staff_day.ClosureOutcome.CLOSED
    _, lucas = await _ids(demo_database, DUPONT, "LUCAS")
    matin = await _service_id(demo_database, "garderie_matin")
    view = await bookings.show_day(
        demo_database, 101, lucas, tuesday, structure=structure, tz=PARIS, now=thursday
    )
    shown = next(item for item in view.services if item.code == "garderie_matin")
    assert shown.book is not None and shown.book.deadline == friday_cutoff
    late = friday_cutoff + dt.timedelta(minutes=1)
    pattern = await bookings.book_weekly_pattern(
        demo_database,
        101,
        frozenset({lucas}),
        frozenset({1}),
        frozenset({matin}),
        structure=structure,
        tz=PARIS,
        now=late,
    )
    tuesday_result = next(d.result for d in pattern.outcomes[0][1] if d.day == tuesday)
    assert (
        tuesday_result.outcome == BookingOutcome.REFUSED
        and tuesday_result.deadline == friday_cutoff
    )
    assert (
        await act(demo_database, structure, DUPONT, "LUCAS", "garderie_matin", tuesday, late)
    ).outcome == BookingOutcome.REFUSED
    async with demo_database.unit_of_work() as uow:
        due = await reminders.due_reminders(
            uow, structure, PARIS, friday_cutoff, admin_chat_id=-100
        )
    headcounts = [
        r
        for r in due
        if r.kind == ReminderKind.HEADCOUNT and r.details["service"] == "garderie_matin"
    ]
    assert any(tuesday in r.details["days"] for r in headcounts)


def _below_minimum(structure: Structure, below: BelowMinimum) -> Structure:
    services = tuple(
        dataclasses.replace(s, rules=dataclasses.replace(s.rules, below_minimum=below))
        if s.code == holidays.ALSH
        else s
        for s in structure.services
    )
    return dataclasses.replace(structure, services=services)


async def test_weekly_minimum_refused_at_booking_and_cancellation(
    demo_database: Database, structure: Structure
) -> None:
    """`min_per_week: {count: 2, below: refuse}`: one day of holiday ALSH in a week is refused;
    two days booked together go through; cancelling one of them (leaving one) is refused."""
    strict = _below_minimum(structure, BelowMinimum.REFUSE)
    alsh = await holidays.open_christmas_window(demo_database)
    monday, tuesday = dt.date(2026, 12, 21), dt.date(2026, 12, 22)
    refused = await act(demo_database, strict, DUPONT, "LUCAS", holidays.ALSH, tuesday)
    assert (
        refused.outcome == BookingOutcome.REFUSED
        and refused.decision.reason == Reason.BELOW_WEEKLY_MINIMUM
    )
    assert await status_of(demo_database, DUPONT, "LUCAS", holidays.ALSH, tuesday) is None
    _, lucas = await _ids(demo_database, DUPONT, "LUCAS")
    pattern = await bookings.book_weekly_pattern(
        demo_database,
        101,
        frozenset({lucas}),
        frozenset({0, 1}),
        frozenset({alsh}),
        structure=strict,
        tz=PARIS,
        now=NOW,
    )
    outcomes = {d.day: d.result.outcome for d in pattern.outcomes[0][1]}
    assert (
        outcomes[monday] == outcomes[tuesday] == BookingOutcome.PENDING
    )  # staff approve the holiday ALSH
    assert (
        await status_of(demo_database, DUPONT, "LUCAS", holidays.ALSH, tuesday)
        == DayStatus.BOOKING_PROCESSING
    )
    async with demo_database.unit_of_work() as uow:
        for day in (monday, tuesday):
            entry = await uow.repos.planning.entry(lucas, alsh, day)
            entry.status = DayStatus.RESERVED  # as after staff accepted
        await uow.commit()
    cancelled = await act(
        demo_database, strict, DUPONT, "LUCAS", holidays.ALSH, tuesday, what=DayAction.CANCEL
    )
    assert (
        cancelled.outcome == BookingOutcome.REFUSED
        and cancelled.decision.reason == Reason.BELOW_WEEKLY_MINIMUM
    )
    assert (
        await status_of(demo_database, DUPONT, "LUCAS", holidays.ALSH, tuesday)
        == DayStatus.RESERVED
    )


async def test_weekly_minimum_flagged_to_staff_at_booking_and_cancellation(
    demo_database: Database, structure: Structure
) -> None:
    """`below: flag` (the demo): one day goes to staff with the flag on its card; a cancellation
    leaving one day goes through and staff are told."""
    from bot.i18n import use_language
    from bot.services.request_cards import request_card
    from conversations.staff.render import card_text

    flagged = _below_minimum(structure, BelowMinimum.FLAG)
    alsh = await holidays.open_christmas_window(demo_database)
    monday, tuesday = dt.date(2026, 12, 21), dt.date(2026, 12, 22)
    booked = await act(demo_database, flagged, DUPONT, "LUCAS", holidays.ALSH, tuesday)
    assert booked.outcome == BookingOutcome.PENDING and booked.week_shortfall is not None
    async with demo_database.unit_of_work() as uow:
        request = await uow.repos.requests.get(booked.request_id)
        assert request.payload["week_minimum"] == {"week": "2026-12-21", "required": 2}
        card = await request_card(uow, booked.request_id)
    with use_language("fr"):
        text = card_text(card, PARIS)
    assert "minimum" in text and "<b>1 / 2</b>" in text
    await holidays.reserve(demo_database, DUPONT, "LUCAS", [monday])
    _, lucas = await _ids(demo_database, DUPONT, "LUCAS")
    async with demo_database.unit_of_work() as uow:
        entry = await uow.repos.planning.entry(lucas, alsh, tuesday)
        entry.status = DayStatus.RESERVED
        await uow.commit()
    cancelled = await act(
        demo_database, flagged, DUPONT, "LUCAS", holidays.ALSH, tuesday, what=DayAction.CANCEL
    )
    assert cancelled.outcome == BookingOutcome.CANCELLED and cancelled.week_shortfall is not None
    told = await outbox(demo_database, bookings.WEEK_BELOW_MINIMUM)
    assert [(row.params["week"], row.params["booked"], row.params["required"]) for row in told] == [
        ("2026-12-21", 1, 2)
    ]
    from types import SimpleNamespace

    from conversations.planning import render_week_below_minimum

    with use_language("fr"):
        shown = await render_week_below_minimum(SimpleNamespace(structure=flagged), told[0].params)  # type: ignore[arg-type]
    assert (
        shown is not None
        and "LUCAS DUPONT" in shown.text
        and "lundi 21 décembre 2026" in shown.text
    )


async def test_for_all_children_the_late_ones_wait_for_consent_and_the_freed_place_is_told(
    demo_database: Database, structure: Structure
) -> None:
    """LUCAS starts the holidays on Monday 21 (late to cancel Wednesday 23), EMMA on Wednesday
    23 (in time): "cancel for all" cancels EMMA at once, and the place she frees goes to CHLOÉ
    on the waiting list, whose family is told, while LUCAS waits for the parent's consent."""
    tight = with_capacity(structure, holidays.ALSH, 2)
    for number, name in ((DUPONT, "EMMA"), (MARTIN, "CHLOÉ")):
        await holidays.enrol(demo_database, number, name)
    alsh = await holidays.open_christmas_window(demo_database)
    await holidays.reserve(
        demo_database, DUPONT, "LUCAS", [holidays.MONDAY_21, holidays.WEDNESDAY_23]
    )
    await holidays.reserve(demo_database, DUPONT, "EMMA", [holidays.WEDNESDAY_23])
    now = holidays.TUESDAY_15
    waiting = await act(
        demo_database,
        tight,
        MARTIN,
        "CHLOÉ",
        holidays.ALSH,
        holidays.WEDNESDAY_23,
        now,
        what=DayAction.WAIT,
    )
    assert waiting.outcome == BookingOutcome.WAITING_LIST

    done = await bookings.act_for_children(
        demo_database,
        101,
        GroupAction.CANCEL,
        alsh,
        holidays.WEDNESDAY_23,
        structure=tight,
        tz=PARIS,
        now=now,
    )
    outcomes = {child.first_name: result for child, result in done.results}
    assert outcomes["LUCAS"].outcome == BookingOutcome.LATE_CONSENT_NEEDED
    assert outcomes["LUCAS"].deadline == dt.datetime(2026, 12, 14, 18, 30, tzinfo=PARIS)
    martin_id, chloe_id = await _ids(demo_database, MARTIN, "CHLOÉ")
    assert outcomes["EMMA"].outcome == BookingOutcome.CANCELLED and outcomes["EMMA"].freed_for == (
        martin_id,
    )
    assert [child.first_name for child, _result in done.late] == ["LUCAS"]
    assert (
        await status_of(demo_database, DUPONT, "LUCAS", holidays.ALSH, holidays.WEDNESDAY_23)
        == DayStatus.RESERVED
    )
    assert (
        await status_of(demo_database, MARTIN, "CHLOÉ", holidays.ALSH, holidays.WEDNESDAY_23)
        == DayStatus.BOOKING_PROCESSING
    )
    told = await outbox(demo_database, bookings.PLACE_FREED, child_id=chloe_id)
    assert [
        (row.chat_id, row.params["services"], row.params["day"], row.params["pending"])
        for row in told
    ] == [(202, [holidays.ALSH], "2026-12-23", True)]
    async with demo_database.unit_of_work() as uow:
        chloe_request = (
            await uow.repos.planning.entry(chloe_id, alsh, holidays.WEDNESDAY_23)
        ).request_id
    assert len(await outbox(demo_database, "staff.request_card", request_id=chloe_request)) == 1

    confirmed = await bookings.act_for_children(
        demo_database,
        101,
        GroupAction.CANCEL,
        alsh,
        holidays.WEDNESDAY_23,
        structure=tight,
        tz=PARIS,
        now=now,
        accept_late=True,
    )
    outcomes = {child.first_name: result.outcome for child, result in confirmed.results}
    assert outcomes == {"LUCAS": BookingOutcome.ABSENCE_PENDING, "EMMA": BookingOutcome.ALREADY}
    assert (
        len(await outbox(demo_database, bookings.PLACE_FREED)) == 1
    )  # the late absence holds its place


async def test_a_certificate_goes_to_the_familys_pending_absence_only(
    demo_database: Database, structure: Structure
) -> None:
    await act(
        demo_database,
        structure,
        DUPONT,
        "LUCAS",
        "cantine",
        TUESDAY,
        dt.datetime(2026, 11, 16, 9, 0, tzinfo=PARIS),
    )
    morning = dt.datetime(2026, 11, 24, 7, 30, tzinfo=PARIS)
    absence = await act(
        demo_database,
        structure,
        DUPONT,
        "LUCAS",
        "cantine",
        TUESDAY,
        morning,
        what=DayAction.ABSENCE,
        reason=AbsenceReason.ILLNESS,
        accept_late=True,
    )
    assert absence.outcome == BookingOutcome.ABSENCE_PENDING
    request_id = absence.request_id
    with pytest.raises(NotAllowed):  # Sophie forges the certificate button of Jean's request
        await bookings.proof_expected(demo_database, 202, request_id, morning)
    with pytest.raises(NotAllowed):
        await bookings.attach_proof(demo_database, 202, request_id, "forged-file", "photo", morning)
    assert (
        await bookings.proof_expected(demo_database, 101, request_id, morning)
        == ProofOutcome.EXPECTED
    )
    attached = await bookings.attach_proof(
        demo_database, 101, request_id, "file-1", "photo", morning
    )
    assert attached.outcome == ProofOutcome.ATTACHED
    assert (
        await outbox(demo_database, bookings.CERTIFICATE) == []
    )  # the card is not sent yet: it will show it
    async with demo_database.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
        assert [(a.actor_telegram_id, a.target) for a in audit] == [
            (202, f"request:{request_id}")
        ] * 2
        request = await uow.repos.requests.get(request_id)
        assert (request.attachment_file_id, request.attachment_kind) == ("file-1", "photo")
        card = await uow.repos.outbox.of_template("staff.request_card", request_id=request_id)
        await uow.repos.outbox.claim(
            morning, 10, audience="staff", ids=[row.id for row in card]
        )  # the sender takes the card
        await uow.commit()
    again = await bookings.attach_proof(
        demo_database, 101, request_id, "file-2", "document", morning
    )
    assert again.outcome == ProofOutcome.ATTACHED
    assert [
        row.audience
        for row in await outbox(demo_database, bookings.CERTIFICATE, request_id=request_id)
    ] == ["staff"]
    assert await bookings.certificate_to_forward(demo_database, request_id) == bookings.Certificate(
        request_id, "file-2", "document"
    )
    async with demo_database.unit_of_work() as uow:
        await decide_request(
            uow, request_id, accept=True, staff_id=9, staff_name="Claire", now=morning
        )
        await uow.commit()
    assert (
        await bookings.proof_expected(demo_database, 101, request_id, morning)
        == ProofOutcome.ALREADY_DECIDED
    )
    late = await bookings.attach_proof(demo_database, 101, request_id, "file-3", "photo", morning)
    assert late.outcome == ProofOutcome.ALREADY_DECIDED
    assert len(await outbox(demo_database, bookings.CERTIFICATE)) == 1


async def test_an_unlinked_account_sees_nothing(
    demo_database: Database, structure: Structure
) -> None:
    from bot.services.use_case import NotLinked

    with pytest.raises(NotLinked):
        await bookings.open_planning(demo_database, 999, structure=structure, tz=PARIS, now=NOW)


async def test_an_illness_absence_without_certificate_is_billed_and_the_family_told(
    demo_database: Database, structure: Structure
) -> None:
    from bot.services.absences import settle_overdue

    await act(
        demo_database,
        structure,
        DUPONT,
        "LUCAS",
        "cantine",
        TUESDAY,
        dt.datetime(2026, 11, 16, 9, 0, tzinfo=PARIS),
    )
    sick = dt.datetime(2026, 11, 24, 7, 30, tzinfo=PARIS)
    absence = await act(
        demo_database,
        structure,
        DUPONT,
        "LUCAS",
        "cantine",
        TUESDAY,
        sick,
        what=DayAction.ABSENCE,
        reason=AbsenceReason.ILLNESS,
        accept_late=True,
    )
    async with demo_database.unit_of_work() as uow:
        await uow.repos.requests.set_admin_message(
            [absence.request_id], 77
        )  # its card is in the admin group
        await uow.commit()

    async def settle(now: dt.datetime) -> int:
        return await settle_overdue(
            demo_database, now, 2, reason="Pas de certificat", decided_by="Portail Famille"
        )

    assert await settle(dt.datetime(2026, 11, 26, 7, 29, tzinfo=PARIS)) == 0
    assert await outbox(demo_database, "requests.decided") == []
    assert await settle(dt.datetime(2026, 11, 26, 7, 31, tzinfo=PARIS)) == 1
    assert (
        await status_of(demo_database, DUPONT, "LUCAS", "cantine", TUESDAY)
        == DayStatus.ABSENT_BILLED
    )
    told = await outbox(demo_database, "requests.decided", request_id=absence.request_id)
    assert [(row.chat_id, row.params["accepted"]) for row in told] == [(101, False)]
    assert len(await outbox(demo_database, "staff.card_update", request_id=absence.request_id)) == 1
    assert await settle(dt.datetime(2026, 11, 27, 9, 0, tzinfo=PARIS)) == 0
    assert len(await outbox(demo_database, "requests.decided")) == 1


async def test_a_screen_that_only_reads_still_audits_a_forged_child(any_demo_database) -> None:  # type: ignore[no-untyped-def]
    """A read-only use case that refuses keeps the refusal's audit row (written apart)."""
    from sqlalchemy import func, select

    from bot.services.use_case import NotAllowed, use_case
    from storage.models import AuditEntry

    with pytest.raises(NotAllowed):
        async with use_case(any_demo_database, read_only=True) as uow:
            uow.repos.audit.record(
                action="child.refused", outcome="refused", actor_telegram_id=1, actor_kind="parent"
            )
            raise NotAllowed()
    async with any_demo_database.unit_of_work() as uow:
        count = (
            await uow.session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "child.refused")
            )
        ).scalar_one()
    assert count == 1
