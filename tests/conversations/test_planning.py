"""A parent books, cancels and declares absences from the month calendar — the parent's story.

The clock is Monday 23 November 2026, 09:00 in Paris.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.model import DayStatus
from bot.runtime import Runtime
from bot.services.children import ACTION_OWNERSHIP_REFUSED
from tests.conversations.conftest import Clock
from tests.support.botapi import BotApiStub, FakeUser

pytestmark = pytest.mark.usefixtures("bot")
PARIS = dt.timezone(dt.timedelta(hours=1))


async def open_child_month(jean: FakeUser, child: str = "LUCAS"):  # type: ignore[no-untyped-def]
    await jean.tap(jean.last_message(), "📅 Planning")
    picker = await jean.next_message()
    assert "Choisissez un enfant" in picker.text
    await jean.tap(picker, child)
    return await jean.next_message()


async def entry_status(runtime: Runtime, first_name: str, code: str, day: dt.date) -> DayStatus | None:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        child = next(c for c in await uow.repos.families.children(family.id) if c.first_name == first_name)
        service = await uow.repos.structure.service_by_code(code)
        entry = await uow.repos.planning.entry(child.id, service.id, day)
        return entry.status if entry else None


async def test_month_calendar_shows_the_legend_and_moves_month_to_month(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    assert "Planning de LUCAS" in month.text and "Novembre 2026" in month.text
    assert "✅ réservé" in month.text and "F jour férié" in month.text and "G grandes vacances" in month.text
    assert "[23]" in month.button_labels  # today
    await jean.tap(month, "▶")
    december = await jean.next_message()
    assert december.message_id == month.message_id and "Décembre 2026" in december.text
    assert "25F" in december.button_labels  # Christmas
    assert "21P" in december.button_labels  # Christmas holidays, zone C
    await jean.tap(december, "◀")
    assert "Novembre 2026" in (await jean.next_message()).text


async def test_book_a_day_then_cancel_it_in_time(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "▶")
    december = await jean.next_message()
    await jean.tap(december, "3")
    day = await jean.next_message()
    assert "jeudi 3 décembre 2026" in day.text and "Restauration scolaire" in day.text
    await jean.tap(day, "✅ Réserver : Restauration scolaire")
    booked = await jean.next_message()
    assert "✅ Réservé." in booked.text
    assert await entry_status(runtime, "LUCAS", "cantine", dt.date(2026, 12, 3)) == DayStatus.RESERVED
    assert "Annulation gratuite jusqu’au vendredi 27 novembre 2026 à 12:00." in booked.text
    await jean.tap(booked, "❎ Annuler : Restauration scolaire")
    cancelled = await jean.next_message()
    assert "Annulé, rien ne sera facturé." in cancelled.text
    assert await entry_status(runtime, "LUCAS", "cantine", dt.date(2026, 12, 3)) == DayStatus.CANCELLED
    await jean.tap(cancelled, "📅 Retour au mois")
    assert "Décembre 2026" in (await jean.next_message()).text


async def test_too_late_to_book_says_which_deadline_applied(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "26")
    day = await jean.next_message()
    assert "trop tard" in day.text and "vendredi 20 novembre 2026 à 12:00" in day.text
    assert not any(label.startswith("✅ Réserver : Restauration") for label in day.button_labels)


async def test_garderie_soir_books_the_gouter_and_late_cancel_needs_confirmation(botapi: BotApiStub, link, runtime: Runtime, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "24")
    day = await jean.next_message()
    await jean.tap(day, "✅ Réserver : Garderie soir")
    booked = await jean.next_message()
    assert await entry_status(runtime, "LUCAS", "gouter", dt.date(2026, 11, 24)) == DayStatus.RESERVED
    clock.now = dt.datetime(2026, 11, 24, 9, 30, tzinfo=PARIS)  # after 09:00 that day
    await jean.tap(booked, "❎ Annuler : Garderie soir")
    warning = await jean.next_message()
    assert "date limite est dépassée" in warning.text and "mardi 24 novembre 2026 à 09:00" in warning.text
    assert "facturée" in warning.text
    await jean.tap(warning, "Confirmer")
    done = await jean.next_message()
    assert "Absence transmise à la structure" in done.text
    assert await entry_status(runtime, "LUCAS", "garderie_soir", dt.date(2026, 11, 24)) == DayStatus.ABSENCE_PROCESSING
    assert await entry_status(runtime, "LUCAS", "gouter", dt.date(2026, 11, 24)) == DayStatus.ABSENCE_PROCESSING


async def test_declare_an_absence_with_a_reason(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean, "EMMA")
    await jean.tap(month, "▶")
    december = await jean.next_message()
    await jean.tap(december, "4")
    day = await jean.next_message()
    await jean.tap(day, "✅ Réserver : Restauration scolaire")
    booked = await jean.next_message()
    await jean.tap(booked, "🤒 Déclarer une absence : Restauration scolaire")
    reasons = await jean.next_message()
    assert "Pour quelle raison" in reasons.text
    await jean.tap(reasons, "🤒 Maladie")
    done = await jean.next_message()
    assert "Absence enregistrée" in done.text
    assert await entry_status(runtime, "EMMA", "cantine", dt.date(2026, 12, 4)) == DayStatus.ABSENT_EXCUSED


async def test_wednesday_alsh_waits_for_staff(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "25")
    day = await jean.next_message()
    await jean.tap(day, "✅ Réserver : Accueil de Loisirs ALSH Mercredi journée")
    pending = await jean.next_message()
    assert "Demande envoyée" in pending.text
    assert await entry_status(runtime, "LUCAS", "alsh_mercredi", dt.date(2026, 11, 25)) == DayStatus.BOOKING_PROCESSING
    await jean.tap(pending, "📅 Retour au mois")
    assert "25⏳" in (await jean.next_message()).button_labels


async def test_double_tap_books_once(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "▶")
    december = await jean.next_message()
    await jean.tap(december, "3")
    day = await jean.next_message()
    await jean.tap(day, "✅ Réserver : Restauration scolaire")
    await jean.tap(day, "✅ Réserver : Restauration scolaire")  # the old message's button, again
    first, second = await jean.next_message(), await jean.next_message()
    assert "✅ Réservé." in first.text and "déjà fait" in second.text
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        lucas = next(c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS")
        entries = await uow.repos.planning.entries(lucas.id, dt.date(2026, 12, 3), dt.date(2026, 12, 3))
    assert len(entries) == 1


async def test_forged_button_for_another_familys_child_is_refused_and_audited(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    eve = botapi.user(202, "Sophie")
    await link(eve, "1001001818332")  # MARTIN
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        lucas = next(c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS")
        cantine = await uow.repos.structure.service_by_code("cantine")
    forged = f"pa:b:{lucas.id}:{cantine.id}:20261203"
    await eve.tap_data(eve.last_message(), forged)
    answer = await eve.next_message()
    assert "n’est plus valable" in answer.text and "LUCAS" not in answer.text
    assert await entry_status(runtime, "LUCAS", "cantine", dt.date(2026, 12, 3)) is None
    async with runtime.database.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
    assert [a.actor_telegram_id for a in audit] == [202]


async def test_book_several_days_until_the_holidays(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "📆 Réserver plusieurs jours")
    pattern = await jean.next_message()
    assert "vendredi 18 décembre 2026" in pattern.text
    await jean.tap(pattern, "⬜ Lundi")
    pattern = await jean.next_message()
    await jean.tap(pattern, "⬜ Jeudi")
    pattern = await jean.next_message()
    await jean.tap(pattern, "⬜ Restauration scolaire")
    pattern = await jean.next_message()
    assert "☑️ Lundi" in pattern.button_labels and "☑️ Restauration scolaire" in pattern.button_labels
    await jean.tap(pattern, "✅ Confirmer")
    summary = await jean.next_message()
    assert "6 jours réservés." in summary.text
    assert "lundi 23 novembre 2026 — Restauration scolaire" in summary.text and "trop tard" in summary.text
    assert await entry_status(runtime, "LUCAS", "cantine", dt.date(2026, 12, 17)) == DayStatus.RESERVED
