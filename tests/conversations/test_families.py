"""Families as they really are: three children booked in one go, three children whose
holiday days are cancelled in one go (some too late, and the place freed still goes to the
waiting family, who is told), and a child shared by two foyers in garde alternée, where each
foyer books, is reminded and pays only its own weeks and sees nothing of the other's. (The
sick-morning absence is in staff/test_sick_morning.py.)

The clock is Monday 23 November 2026 (ISO week 48), unless a story moves it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import Application

from bot.domain.billing import BillingPeriod
from bot.domain.model import Custody, DayStatus, GuardianRole
from bot.domain.reminders import ReminderKind
from bot.runtime import Runtime
from bot.services.billing import issue_invoices
from bot.services.reminders import ReminderSettings
from storage.models import Child, Enrolment, Family, FamilyChild, Guardian, Invoice
from tests.conversations.conftest import MARTIN, Clock
from tests.support import holidays
from tests.support.botapi import BotApiStub
from tests.support.outbox import deliver_reminders

pytestmark = pytest.mark.usefixtures("bot")
PARIS = ZoneInfo("Europe/Paris")
THREE, OTHER_FOYER = "1001001818350", "1001001818360"


async def add_family(
    runtime: Runtime,
    number: str,
    last_name: str,
    children: list[Child],
    custody: Custody = Custody.FULL,
) -> None:
    async with runtime.database.unit_of_work() as uow:
        family = Family(
            number=number,
            guardians=[
                Guardian(role=GuardianRole.RESPONSABLE, last_name=last_name, first_name="ALEX")
            ],
        )
        uow.session.add(family)
        cantine = await uow.repos.structure.service_by_code("cantine")
        await uow.session.flush()
        for child in children:
            if child.id is None:
                uow.session.add(child)
                await uow.session.flush()
            uow.session.add(FamilyChild(family_id=family.id, child_id=child.id, custody=custody))
            uow.session.add(
                Enrolment(
                    child_id=child.id,
                    service_id=cantine.id,
                    family_id=family.id,
                    starts_on=dt.date(2026, 9, 1),
                )
            )
        await uow.commit()


async def cantine_status(
    runtime: Runtime, first_name: str, day: dt.date
) -> tuple[DayStatus, int] | None:
    return await day_status(runtime, first_name, "cantine", day)


async def day_status(
    runtime: Runtime, first_name: str, code: str, day: dt.date
) -> tuple[DayStatus, int] | None:
    """(status, family id) of a child's day of a service (the cantine, or another)."""
    async with runtime.database.unit_of_work() as uow:
        from sqlalchemy import select

        child = (
            await uow.session.execute(select(Child).where(Child.first_name == first_name))
        ).scalar_one()
        service = await uow.repos.structure.service_by_code(code)
        entry = await uow.repos.planning.entry(child.id, service.id, day)
        return (entry.status, entry.family_id) if entry else None


async def test_three_children_booked_in_one_go(botapi: BotApiStub, runtime: Runtime, link) -> None:  # type: ignore[no-untyped-def]
    await add_family(
        runtime,
        THREE,
        "BERNARD",
        [Child(last_name="BERNARD", first_name=n) for n in ("ANNA", "BASILE", "CLARA")],
    )
    parent = botapi.user(303, "Alex")
    await link(parent, THREE)
    await parent.tap(parent.last_message(), "📅 Planning")
    await parent.tap(await parent.next_message(), "👨‍👩‍👧 Tous mes enfants")
    month = await parent.next_message()
    assert "Planning de tous mes enfants" in month.text
    await parent.tap(month, "▶")
    await parent.tap(await parent.next_message(), "3")
    day = await parent.next_message()
    assert all(name in day.text for name in ("ANNA", "BASILE", "CLARA"))
    await parent.tap(day, "👨‍👩‍👧 Réserver pour tous\u00a0: Restauration scolaire")
    done = await parent.next_message()
    assert done.text.count("✅ Réservé.") == 3
    for name in ("ANNA", "BASILE", "CLARA"):
        assert (await cantine_status(runtime, name, dt.date(2026, 12, 3)))[0] == DayStatus.RESERVED
    # The weekly pattern, for a chosen subset: every Monday until the holidays, not for CLARA.
    await parent.tap(done, "📅 Retour au mois")
    await parent.tap(await parent.next_message(), "📆 Réserver plusieurs jours")
    pattern = await parent.next_message()
    for label in ("☑️ CLARA", "⬜ Lundi", "⬜ Restauration scolaire"):
        await parent.tap(pattern, label)
        pattern = await parent.next_message()
    await parent.tap(pattern, "✅ Confirmer")
    summary = await parent.next_message()
    assert summary.text.count("3 jours réservés.") == 2 and "CLARA" not in summary.text
    assert (await cantine_status(runtime, "BASILE", dt.date(2026, 12, 14)))[0] == DayStatus.RESERVED
    assert await cantine_status(runtime, "CLARA", dt.date(2026, 12, 14)) is None


async def test_cancelling_for_all_with_a_late_consent_still_tells_the_waiting_family(
    botapi: BotApiStub, runtime: Runtime, clock: Clock, link
) -> None:  # type: ignore[no-untyped-def]
    """The BERNARD children are booked at the Christmas ALSH on Wednesday 23, which is full;
    CHLOÉ MARTIN waits for a place. On Tuesday 15 the parent cancels the day for all three:
    ANNA and CLARA start on Monday 21, so their deadline has passed and the parent is asked to
    confirm; BASILE starts on the 23rd, so his place is freed at once, and goes to CHLOÉ.
    Her family hears of it even though the parent was asked about the others."""
    await add_family(
        runtime,
        THREE,
        "BERNARD",
        [Child(last_name="BERNARD", first_name=n) for n in ("ANNA", "BASILE", "CLARA")],
    )
    db = runtime.database
    for name in ("ANNA", "BASILE", "CLARA"):
        await holidays.enrol(db, THREE, name)
    await holidays.enrol(db, MARTIN, "CHLOÉ")
    for name, days in (
        ("ANNA", [holidays.MONDAY_21, holidays.WEDNESDAY_23]),
        ("BASILE", [holidays.WEDNESDAY_23]),
        ("CLARA", [holidays.MONDAY_21, holidays.WEDNESDAY_23]),
    ):
        await holidays.reserve(db, THREE, name, days)
    alsh = await holidays.open_christmas_window(db)
    runtime.structure = holidays.with_capacity(runtime.structure, holidays.ALSH, 3)
    clock.now = holidays.TUESDAY_15
    _family, chloe = await holidays.child_id(db, MARTIN, "CHLOÉ")

    sophie = botapi.user(202, "Sophie")
    await link(sophie, MARTIN)
    await sophie.tap(sophie.last_message(), "menu:planning")
    month = await sophie.next_message()  # her only child's month
    assert "Planning de CHLOÉ" in month.text and "Décembre 2026" in month.text
    await sophie.tap(month, f"pd:{chloe}:20261223")
    day = await sophie.next_message()
    await sophie.tap(day, f"pa:w:{chloe}:{alsh}:20261223")  # the day is full
    assert "liste d’attente" in (await sophie.next_message()).text

    parent = botapi.user(303, "Alex")
    await link(parent, THREE)
    await parent.tap(parent.last_message(), "menu:planning")
    await parent.tap(await parent.next_message(), "pm:0:202612")  # all my children
    await parent.tap(await parent.next_message(), "pd:0:20261223")
    day = await parent.next_message()
    assert all(name in day.text for name in ("ANNA", "BASILE", "CLARA"))
    await parent.tap(day, f"pg:c:{alsh}:20261223:0")  # cancel for all
    question = await parent.next_message()
    assert "date limite est dépassée pour\u00a0: ANNA, CLARA" in question.text
    assert "lundi 14 décembre 2026 à 18:30" in question.text
    assert "BASILE" in question.text and "Annulé, rien ne sera facturé." in question.text

    freed = await sophie.next_message()  # sent by the bot on its own, from the outbox
    assert "Une place s’est libérée" in freed.text and "mercredi 23 décembre 2026" in freed.text
    assert "CHLOÉ" in freed.text and "Accueil de Loisirs ALSH Vacances journée" in freed.text
    assert (await day_status(runtime, "CHLOÉ", holidays.ALSH, holidays.WEDNESDAY_23))[
        0
    ] == DayStatus.BOOKING_PROCESSING

    await parent.tap(question, f"pg:c:{alsh}:20261223:1")  # confirm for ANNA and CLARA
    done = await parent.next_message()
    assert done.text.count("Absence transmise à la structure") == 2 and "déjà fait" in done.text
    for name in ("ANNA", "CLARA"):
        assert (await day_status(runtime, name, holidays.ALSH, holidays.WEDNESDAY_23))[
            0
        ] == DayStatus.ABSENCE_PROCESSING
    assert (await day_status(runtime, "BASILE", holidays.ALSH, holidays.WEDNESDAY_23))[
        0
    ] == DayStatus.CANCELLED
    await sophie.expect_silence(0.2)  # told once


async def test_a_child_shared_by_two_foyers(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock, link
) -> None:  # type: ignore[no-untyped-def,type-arg]
    async with (
        runtime.database.unit_of_work() as uow
    ):  # LUCAS DUPONT: odd weeks with JEAN, even weeks with the other foyer
        family = await uow.repos.families.get_by_number("1001001818331")
        lucas = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
        link_a = await uow.repos.planning.family_link(family.id, lucas.id)
        link_a.custody = Custody.ODD_WEEKS
        await uow.commit()
    await add_family(runtime, OTHER_FOYER, "MARTIN", [lucas], Custody.EVEN_WEEKS)
    jean, marie = botapi.user(101, "Jean"), botapi.user(404, "Marie")
    await link(jean)
    await link(marie, OTHER_FOYER)

    async def open_december(parent):  # type: ignore[no-untyped-def]
        await parent.tap(parent.last_message(), "📅 Planning")
        picker = await parent.next_message()
        if "LUCAS" in picker.button_labels:
            await parent.tap(picker, "LUCAS")
            picker = await parent.next_message()
        await parent.tap(picker, "▶")
        return await parent.next_message()

    december = await open_december(jean)
    assert (
        "3" in december.button_labels and "10↔" in december.button_labels
    )  # week 49 his, week 50 hers
    await jean.tap(december, "3")
    await jean.tap(await jean.next_message(), "✅ Réserver\u00a0: Restauration scolaire")
    assert "✅ Réservé." in (await jean.next_message()).text
    await jean.tap(jean.last_message(), "📅 Retour au mois")
    await jean.tap(await jean.next_message(), "10↔")
    await jean.tap(await jean.next_message(), "✅ Réserver\u00a0: Restauration scolaire")
    other_week = await jean.next_message()
    assert "semaine de l’autre foyer" in other_week.text
    assert await cantine_status(runtime, "LUCAS", dt.date(2026, 12, 10)) == (
        DayStatus.BOOKING_PROCESSING,
        (await _family_id(runtime, "1001001818331")),
    )

    december = await open_december(marie)
    assert (
        "3↔" in december.button_labels and "3✅" not in december.button_labels
    )  # she does not see his booking
    await marie.tap(december, "11")
    await marie.tap(await marie.next_message(), "✅ Réserver\u00a0: Restauration scolaire")
    assert "✅ Réservé." in (await marie.next_message()).text
    await marie.tap(marie.last_message(), "📅 Retour au mois")
    await marie.tap(await marie.next_message(), "3↔")
    day = await marie.next_message()
    assert "déjà inscrit ce jour-là par l’autre foyer" in day.text and "JEAN" not in day.text

    # Reminders: the cutoff of week 49 (Friday 27 November 12:00) concerns Jean's foyer only.
    clock.now = dt.datetime(2026, 11, 27, 11, 0, tzinfo=PARIS)
    runtime.structure = dataclasses.replace(
        runtime.structure,
        services=tuple(s for s in runtime.structure.services if s.code == "cantine"),
    )
    await jean.expect_silence(0.1)
    report = await deliver_reminders(
        runtime, ReminderSettings(kinds=frozenset({ReminderKind.BOOKING}))
    )
    reminded = {
        c.params["chat_id"]: c.params["text"]
        for c in botapi.calls("sendMessage")
        if "Rappel" in c.params["text"]
    }
    assert 404 not in reminded and report.sent == len(reminded)
    assert "LUCAS" not in reminded.get(
        101, ""
    )  # LUCAS is booked on Jean's week already; EMMA is not
    # Billing: each foyer pays its own weeks only.
    await issue_invoices(
        runtime.database,
        runtime.structure,
        BillingPeriod.month(2026, 12),
        today=dt.date(2027, 1, 5),
        now=dt.datetime(2027, 1, 5, 9, 0, tzinfo=PARIS),
        actor_telegram_id=None,
        actor_kind="system",
    )
    async with runtime.database.unit_of_work() as uow:
        from sqlalchemy import select

        invoices = (
            (
                await uow.session.execute(
                    select(Invoice).where(Invoice.period_start == dt.date(2026, 12, 1))
                )
            )
            .scalars()
            .all()
        )
    by_family = {invoice.family_id: invoice.total for invoice in invoices}
    assert by_family[await _family_id(runtime, OTHER_FOYER)] > Decimal("0")  # her 11 December
    assert set(by_family) == {
        await _family_id(runtime, "1001001818331"),
        await _family_id(runtime, OTHER_FOYER),
    }


async def _family_id(runtime: Runtime, number: str) -> int:
    async with runtime.database.unit_of_work() as uow:
        return (await uow.repos.families.get_by_number(number)).id
