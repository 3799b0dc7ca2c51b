"""A regular contract's "régulier" days on a rolling horizon, on both engines: written by the
families' import, by `/contrat` and by the daily job up to today + REGULAR_HORIZON_WEEKS, never
over a day already in the planning, never on a closure.

Today is Monday 23 November 2026: the horizon is Monday 4 January 2027 (the Christmas holidays,
19 December to 3 January, have no school-day service).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot import regular_days_job
from bot.domain.model import DayStatus
from bot.domain.planning import Month
from bot.runtime import Runtime
from bot.services import attendance, bookings
from bot.services.attendance import REGULAR_HORIZON_WEEKS, extend_regular_days, regular_horizon
from bot.services.family_import import ImportOptions, ImportOutcome, apply_import
from bot.services.structure_sync import sync_structure
from bot.settings import load_settings
from bot.structure import Structure
from storage.db import Database
from storage.models import Closure, DayEntry
from tests.support.botapi import DEFAULT_TOKEN
from tests.support.families_file import family_number, family_rows, to_csv
from tests.support.money import DUPONT, PARIS, family_and_children, link_account

MONDAY = dt.date(2026, 11, 23)
HORIZON = dt.date(2027, 1, 4)
STAFF = 7
PARENT = 501


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=PARIS)


def next_day(day: dt.date, days: int = 1) -> dt.date:
    return day + dt.timedelta(days=days)


@pytest.fixture
async def commune(any_database: Database, structure: Structure) -> Database:
    """An empty database (each engine) with the structure's services."""
    async with any_database.transaction() as uow:
        await sync_structure(uow, structure)
    return any_database


async def regular_days(db: Database, child_id: int, code: str) -> dict[dt.date, DayStatus]:
    async with db.unit_of_work() as uow:
        service = await uow.repos.structure.service_by_code(code)
        assert service is not None
        rows = await uow.repos.attendance.entries_from(
            child_id, service.id, MONDAY, dt.date(2027, 12, 31)
        )
        return {e.day: e.status for e in rows}


async def contract(
    db: Database, structure: Structure, weekdays: set[int], today: dt.date = MONDAY
) -> attendance.ContractResult:
    """/contrat DUPONT LUCAS garderie_matin …"""
    return await attendance.set_contract(
        db,
        structure,
        family_number=DUPONT,
        first_name="LUCAS",
        service_code="garderie_matin",
        weekdays=frozenset(weekdays),
        staff_id=STAFF,
        now=at(today),
        today=today,
        tz=PARIS,
    )


async def job(db: Database, structure: Structure, today: dt.date) -> int:
    return await extend_regular_days(db, structure, today=today, now=at(today, 2), tz=PARIS)


def test_the_horizon_is_six_weeks_ahead() -> None:
    assert REGULAR_HORIZON_WEEKS == 6 and regular_horizon(MONDAY) == HORIZON


async def test_an_imported_contract_shows_regular_days_in_the_parents_month_within_the_horizon_only(
    commune: Database, structure: Structure
) -> None:
    rows = family_rows(1)  # one family, two children
    rows[0]["Services"] = "cantine (lun mar jeu)"
    content = to_csv(rows)

    report = await apply_import(
        commune,
        structure,
        content,
        "familles.csv",
        ImportOptions(),
        today=MONDAY,
        now=at(MONDAY),
        actor_id=STAFF,
    )

    assert report.outcome is ImportOutcome.APPLIED
    number = family_number(0)
    _, children = await family_and_children(commune, number)
    child_id = children[rows[0]["Enfant prénom"]]
    await link_account(commune, number, PARENT, "fr")

    async def month(year: int, month: int) -> dict[dt.date, tuple[DayStatus, ...]]:
        view = await bookings.show_month(
            commune,
            PARENT,
            child_id,
            Month(year, month),
            structure=structure,
            tz=PARIS,
            now=at(MONDAY),
        )
        return {day: cell.statuses for day, cell in view.planning.cells.items() if cell.statuses}

    regular = (DayStatus.REGULAR,)
    # From tomorrow: Tuesday 24, Thursday 26, Monday 30; not today, not Friday.
    assert await month(2026, 11) == {dt.date(2026, 11, d): regular for d in (24, 26, 30)}
    assert await month(2026, 12) == {
        dt.date(2026, 12, d): regular for d in (1, 3, 7, 8, 10, 14, 15, 17)
    }
    # The horizon, Monday 4 January, and nothing beyond it.
    assert await month(2027, 1) == {HORIZON: regular}


async def test_the_daily_job_writes_nothing_twice_a_day_and_the_next_day_adds_the_day_come_within_the_horizon(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    _, dupont = await family_and_children(db, DUPONT)
    await contract(db, structure, {0, 1, 3})  # lun, mar, jeu
    await job(db, structure, MONDAY)  # the demo's other contracts, if any

    again = await job(db, structure, MONDAY)
    tuesday = next_day(MONDAY)
    written = await job(db, structure, tuesday)
    once_more = await job(db, structure, tuesday)

    assert again == 0 and once_more == 0
    days = await regular_days(db, dupont["LUCAS"], "garderie_matin")
    assert max(days) == dt.date(2027, 1, 5)  # Tuesday 5 January, the day come within
    async with db.unit_of_work() as uow:
        new = (
            (
                await uow.session.execute(
                    select(DayEntry).where(DayEntry.updated_at == at(tuesday, 2))
                )
            )
            .scalars()
            .all()
        )
    assert written == len(new) >= 1
    assert {e.day for e in new} == {dt.date(2027, 1, 5)}
    assert all(e.status is DayStatus.REGULAR for e in new)


async def test_a_day_the_parent_cancelled_stays_cancelled_after_the_daily_job(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    _, dupont = await family_and_children(db, DUPONT)
    await link_account(db, DUPONT, PARENT, "fr")
    await contract(db, structure, {0, 1, 3})
    async with db.unit_of_work() as uow:
        matin = await uow.repos.structure.service_by_code("garderie_matin")
        assert matin is not None
    thursday = dt.date(2026, 12, 10)
    done = await bookings.act_on_day(
        db,
        PARENT,
        bookings.DayAction.CANCEL,
        dupont["LUCAS"],
        matin.id,
        thursday,
        structure=structure,
        tz=PARIS,
        now=at(MONDAY, 12),
    )
    assert done.result.outcome is bookings.BookingOutcome.CANCELLED

    for day in (MONDAY, next_day(MONDAY), next_day(MONDAY, 2)):
        await job(db, structure, day)

    days = await regular_days(db, dupont["LUCAS"], "garderie_matin")
    assert days[thursday] is DayStatus.CANCELLED
    assert days[dt.date(2026, 12, 8)] is DayStatus.REGULAR


async def test_a_closure_day_gets_no_regular_day_from_the_daily_job(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    _, dupont = await family_and_children(db, DUPONT)
    await contract(db, structure, {0, 1, 3})
    closed = dt.date(2027, 1, 7)  # a Thursday, beyond today's horizon
    async with db.unit_of_work() as uow:
        uow.session.add(Closure(day=closed, service_id=None, reason="Formation"))
        await uow.commit()

    for day in (next_day(MONDAY), next_day(MONDAY, 2), next_day(MONDAY, 3)):
        await job(db, structure, day)  # up to Thursday 7 January

    days = await regular_days(db, dupont["LUCAS"], "garderie_matin")
    assert days[dt.date(2027, 1, 5)] is DayStatus.REGULAR
    assert closed not in days


async def test_a_weekday_dropped_from_a_contract_cancels_its_regular_days_even_beyond_the_horizon(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    family_id, dupont = await family_and_children(db, DUPONT)
    lucas = dupont["LUCAS"]
    await contract(db, structure, {0, 1, 3})
    await job(db, structure, next_day(MONDAY))  # writes Tuesday 5 January
    async with db.unit_of_work() as uow:
        matin = await uow.repos.structure.service_by_code("garderie_matin")
        assert matin is not None
        # A day written before the horizon existed (a contract of a whole school year).
        uow.session.add(
            DayEntry(
                child_id=lucas,
                service_id=matin.id,
                family_id=family_id,
                day=dt.date(2027, 3, 2),
                status=DayStatus.REGULAR,
            )
        )
        await uow.commit()

    result = await contract(db, structure, {0}, today=next_day(MONDAY))  # lundi only

    days = await regular_days(db, lucas, "garderie_matin")
    for tuesday_or_thursday in (dt.date(2026, 11, 26), dt.date(2027, 1, 5), dt.date(2027, 3, 2)):
        assert days[tuesday_or_thursday] is DayStatus.CANCELLED
    assert days[dt.date(2026, 11, 30)] is DayStatus.REGULAR
    # 7 Tuesdays and Thursdays from Thursday 26 to the holidays, 5 January and 2 March.
    assert result.days_removed == 9
    assert result.days_added == 0


async def test_a_weekday_an_import_drops_from_a_contract_cancels_its_regular_days(
    commune: Database, structure: Structure
) -> None:
    rows = family_rows(1)
    rows[0]["Services"] = "cantine (lun mar jeu)"
    options = ImportOptions()
    await apply_import(
        commune,
        structure,
        to_csv(rows),
        "familles.csv",
        options,
        today=MONDAY,
        now=at(MONDAY),
        actor_id=STAFF,
    )
    rows[0]["Services"] = "cantine (lun)"
    tuesday = next_day(MONDAY)

    report = await apply_import(
        commune,
        structure,
        to_csv(rows),
        "familles.csv",
        options,
        today=tuesday,
        now=at(tuesday),
        actor_id=STAFF,
    )

    assert report.outcome is ImportOutcome.APPLIED
    _, children = await family_and_children(commune, family_number(0))
    days = await regular_days(commune, children[rows[0]["Enfant prénom"]], "cantine")
    assert days[dt.date(2026, 11, 26)] is DayStatus.CANCELLED
    assert days[dt.date(2026, 12, 1)] is DayStatus.CANCELLED
    assert days[dt.date(2026, 11, 30)] is DayStatus.REGULAR
    assert days[dt.date(2026, 11, 24)] is DayStatus.REGULAR  # today: left as it is


async def test_the_scheduled_job_works_once_a_local_day_and_writes_the_new_day_after_midnight_in_paris(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    _, dupont = await family_and_children(db, DUPONT)
    await contract(db, structure, {0, 1, 3})
    instant = [at(MONDAY, 22)]
    runtime = Runtime(
        settings=load_settings(
            _env_file=None, telegram_bot_token=DEFAULT_TOKEN, database_url=db.url
        ),
        database=db,
        structure=structure,
        clock=lambda: instant[0],
    )
    await regular_days_job.extend(runtime)  # Monday's run
    assert runtime.extensions[regular_days_job.DONE_KEY] == MONDAY

    instant[0] = dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC)  # 00:30 on Tuesday in Paris
    written = await regular_days_job.extend(runtime)

    assert written >= 1 and runtime.extensions[regular_days_job.DONE_KEY] == next_day(MONDAY)
    days = await regular_days(db, dupont["LUCAS"], "garderie_matin")
    assert days[dt.date(2027, 1, 5)] is DayStatus.REGULAR
    assert await regular_days_job.extend(runtime) == 0
