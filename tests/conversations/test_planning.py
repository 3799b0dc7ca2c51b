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


async def entry_status(
    runtime: Runtime, first_name: str, code: str, day: dt.date
) -> DayStatus | None:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        child = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == first_name
        )
        service = await uow.repos.structure.service_by_code(code)
        entry = await uow.repos.planning.entry(child.id, service.id, day)
        return entry.status if entry else None


async def test_month_calendar_shows_the_legend_and_moves_month_to_month(
    botapi: BotApiStub, link
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    assert "Planning de LUCAS" in month.text and "Novembre 2026" in month.text
    assert (
        "✅ réservé" in month.text
        and "F jour férié" in month.text
        and "G grandes vacances" in month.text
    )
    assert "[23]" in month.button_labels  # today
    await jean.tap(month, "▶")
    december = await jean.next_message()
    assert december.message_id == month.message_id and "Décembre 2026" in december.text
    assert "25F" in december.button_labels  # Christmas
    assert "21P" in december.button_labels  # Christmas holidays, zone C
    await jean.tap(december, "◀")
    assert "Novembre 2026" in (await jean.next_message()).text


async def test_book_a_day_then_cancel_it_in_time(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "▶")
    december = await jean.next_message()
    await jean.tap(december, "3")
    day = await jean.next_message()
    assert "jeudi 3 décembre 2026" in day.text and "Restauration scolaire" in day.text
    await jean.tap(day, "✅ Réserver\u00a0: Restauration scolaire")
    booked = await jean.next_message()
    assert "✅ Réservé." in booked.text
    assert (
        await entry_status(runtime, "LUCAS", "cantine", dt.date(2026, 12, 3)) == DayStatus.RESERVED
    )
    assert "Annulation gratuite jusqu’au vendredi 27 novembre 2026 à 12:00." in booked.text
    await jean.tap(booked, "❎ Annuler\u00a0: Restauration scolaire")
    cancelled = await jean.next_message()
    assert "Annulé, rien ne sera facturé." in cancelled.text
    assert (
        await entry_status(runtime, "LUCAS", "cantine", dt.date(2026, 12, 3)) == DayStatus.CANCELLED
    )
    await jean.tap(cancelled, "📅 Retour au mois")
    assert "Décembre 2026" in (await jean.next_message()).text


async def test_too_late_to_book_says_which_deadline_applied(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "26")
    day = await jean.next_message()
    assert "trop tard" in day.text and "vendredi 20 novembre 2026 à 12:00" in day.text
    assert not any(
        label.startswith("✅ Réserver\u00a0: Restauration") for label in day.button_labels
    )


async def test_garderie_soir_books_the_gouter_and_late_cancel_needs_confirmation(
    botapi: BotApiStub, link, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "24")
    day = await jean.next_message()
    await jean.tap(day, "✅ Réserver\u00a0: Garderie soir")
    booked = await jean.next_message()
    assert (
        await entry_status(runtime, "LUCAS", "gouter", dt.date(2026, 11, 24)) == DayStatus.RESERVED
    )
    clock.now = dt.datetime(2026, 11, 24, 9, 30, tzinfo=PARIS)  # after 09:00 that day
    await jean.tap(booked, "❎ Annuler\u00a0: Garderie soir")
    warning = await jean.next_message()
    assert (
        "date limite est dépassée" in warning.text
        and "mardi 24 novembre 2026 à 09:00" in warning.text
    )
    assert "facturée" in warning.text and "Pour quelle raison" in warning.text
    await jean.tap(warning, "🤒 Maladie")
    done = await jean.next_message()
    assert "Absence transmise à la structure" in done.text
    assert (
        await entry_status(runtime, "LUCAS", "garderie_soir", dt.date(2026, 11, 24))
        == DayStatus.ABSENCE_PROCESSING
    )
    assert (
        await entry_status(runtime, "LUCAS", "gouter", dt.date(2026, 11, 24))
        == DayStatus.ABSENCE_PROCESSING
    )


async def test_declare_an_absence_with_a_reason(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean, "EMMA")
    await jean.tap(month, "▶")
    december = await jean.next_message()
    await jean.tap(december, "4")
    day = await jean.next_message()
    await jean.tap(day, "✅ Réserver\u00a0: Restauration scolaire")
    booked = await jean.next_message()
    await jean.tap(booked, "🤒 Déclarer une absence\u00a0: Restauration scolaire")
    reasons = await jean.next_message()
    assert "Pour quelle raison" in reasons.text
    await jean.tap(reasons, "🤒 Maladie")
    done = await jean.next_message()
    assert "Absence enregistrée" in done.text
    assert (
        await entry_status(runtime, "EMMA", "cantine", dt.date(2026, 12, 4))
        == DayStatus.ABSENT_EXCUSED
    )


async def _ids(runtime: Runtime, first_name: str, code: str) -> tuple[int, int]:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        child = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == first_name
        )
        return child.id, (await uow.repos.structure.service_by_code(code)).id


async def test_a_late_cancellation_asks_the_reason_and_other_is_typed_then_confirmed(
    botapi: BotApiStub, link, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    """ "Annuler" after the deadline asks the reason; "✏️ Autre" waits for the typed reason and
    its confirmation; staff get that reason, not "autre"."""
    from bot import callbacks
    from bot.domain.model import RequestKind

    jean = botapi.user(101, "Jean")
    await link(jean)
    lucas, soir = await _ids(runtime, "LUCAS", "garderie_soir")
    tuesday = "20261124"
    await jean.tap_data(
        jean.last_message(), callbacks.build(callbacks.PLANNING_DAY, lucas, tuesday)
    )
    day = await jean.next_message()
    await jean.tap_data(day, callbacks.build(callbacks.PLANNING_ACTION, "b", lucas, soir, tuesday))
    booked = await jean.next_message()
    clock.now = dt.datetime(2026, 11, 24, 9, 30, tzinfo=PARIS)  # after 09:00 that day: late
    await jean.tap_data(
        booked, callbacks.build(callbacks.PLANNING_ACTION, "c", lucas, soir, tuesday)
    )
    asked = await jean.next_message()
    other = callbacks.build(callbacks.PLANNING_REASON, "o", "1", lucas, soir, tuesday)
    assert other in [b.get("callback_data") for row in asked.buttons for b in row]
    await jean.tap_data(asked, other)
    prompt = await jean.next_message()
    assert (
        await entry_status(runtime, "LUCAS", "garderie_soir", dt.date(2026, 11, 24))
        == DayStatus.RESERVED
    )  # nothing yet
    await jean.send("Rendez-vous chez l’orthophoniste")
    confirm = await jean.next_message()
    assert "Rendez-vous chez l’orthophoniste" in confirm.text and "pas compris" not in confirm.text
    assert (
        await entry_status(runtime, "LUCAS", "garderie_soir", dt.date(2026, 11, 24))
        == DayStatus.RESERVED
    )
    typed = callbacks.build(callbacks.PLANNING_REASON, "t", "1", lucas, soir, tuesday)
    assert (
        typed in [b.get("callback_data") for row in confirm.buttons for b in row]
        and prompt.message_id != confirm.message_id
    )
    await jean.tap_data(confirm, typed)
    await jean.next_message()
    assert (
        await entry_status(runtime, "LUCAS", "garderie_soir", dt.date(2026, 11, 24))
        == DayStatus.ABSENCE_PROCESSING
    )
    async with runtime.database.unit_of_work() as uow:
        requests = [r for r in await uow.repos.requests.pending() if r.kind == RequestKind.ABSENCE]
    assert [(r.payload["reason"], r.payload["note"]) for r in requests] == [
        ("other", "Rendez-vous chez l’orthophoniste")
    ]


async def test_wednesday_alsh_waits_for_staff(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    await jean.tap(month, "25")
    day = await jean.next_message()
    await jean.tap(day, "✅ Réserver\u00a0: Accueil de Loisirs ALSH Mercredi journée")
    pending = await jean.next_message()
    assert "Demande envoyée" in pending.text
    assert (
        await entry_status(runtime, "LUCAS", "alsh_mercredi", dt.date(2026, 11, 25))
        == DayStatus.BOOKING_PROCESSING
    )
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
    await jean.tap(day, "✅ Réserver\u00a0: Restauration scolaire")
    await jean.tap(
        day, "✅ Réserver\u00a0: Restauration scolaire"
    )  # the old message's button, again
    first, second = await jean.next_message(), await jean.next_message()
    assert "✅ Réservé." in first.text and "déjà fait" in second.text
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        lucas = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
        entries = await uow.repos.planning.entries(
            lucas.id, dt.date(2026, 12, 3), dt.date(2026, 12, 3)
        )
    assert len(entries) == 1


async def test_forged_button_for_another_familys_child_is_refused_and_audited(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    eve = botapi.user(202, "Sophie")
    await link(eve, "1001001818332")  # MARTIN
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        lucas = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
        cantine = await uow.repos.structure.service_by_code("cantine")
    forged = f"pa:b:{lucas.id}:{cantine.id}:20261203"
    await eve.tap_data(eve.last_message(), forged)
    answer = await eve.next_message()
    assert "n’est plus valable" in answer.text and "LUCAS" not in answer.text
    assert await entry_status(runtime, "LUCAS", "cantine", dt.date(2026, 12, 3)) is None
    async with runtime.database.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
    assert [a.actor_telegram_id for a in audit] == [202]


async def test_book_several_days_until_the_holidays(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
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
    assert (
        "lundi 23 novembre 2026 — Restauration scolaire" in summary.text
        and "trop tard" in summary.text
    )
    assert (
        await entry_status(runtime, "LUCAS", "cantine", dt.date(2026, 12, 17)) == DayStatus.RESERVED
    )


def _callback_data(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.get("callback_data", "") for row in message.buttons for b in row]


async def test_a_sibling_added_between_showing_and_tapping_does_not_change_who_is_booked(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    """ "Réserver plusieurs jours" names LUCAS by id: ADAM, added meanwhile (first in the sorted
    list, enrolled in the cantine too), is not booked instead, and neither is EMMA."""
    from bot import callbacks
    from storage.models import Child, Enrolment, FamilyChild

    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean)
    pattern_button = next(
        d for d in _callback_data(month) if d.startswith(callbacks.PLANNING_PATTERN + ":")
    )
    await jean.tap_data(month, pattern_button)
    pattern = await jean.next_message()
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        cantine = await uow.repos.structure.service_by_code("cantine")
        adam = Child(first_name="ADAM", last_name="DUPONT")
        uow.session.add(adam)
        await uow.session.flush()
        uow.session.add(FamilyChild(family_id=family.id, child_id=adam.id))
        uow.session.add(
            Enrolment(
                child_id=adam.id,
                service_id=cantine.id,
                family_id=family.id,
                starts_on=dt.date(2026, 9, 1),
            )
        )
        await uow.commit()
    monday = next(
        d
        for d in _callback_data(pattern)
        if d.startswith(callbacks.PLANNING_PATTERN + ":") and d.split(":")[2] == "1"
    )
    await jean.tap_data(pattern, monday)
    pattern = await jean.next_message()
    chosen = next(
        d
        for d in _callback_data(pattern)
        if d.startswith(callbacks.PLANNING_PATTERN + ":") and d.split(":")[3] == _b36(cantine.id)
    )
    await jean.tap_data(pattern, chosen)
    pattern = await jean.next_message()
    confirm = next(
        d for d in _callback_data(pattern) if d.startswith(callbacks.PLANNING_PATTERN_CONFIRM + ":")
    )
    await jean.tap_data(pattern, confirm)
    summary = await jean.next_message()
    assert "LUCAS" in summary.text and "ADAM" not in summary.text and "EMMA" not in summary.text
    assert (
        await entry_status(runtime, "LUCAS", "cantine", dt.date(2026, 11, 30)) == DayStatus.RESERVED
    )
    assert await entry_status(runtime, "ADAM", "cantine", dt.date(2026, 11, 30)) is None
    assert await entry_status(runtime, "EMMA", "cantine", dt.date(2026, 11, 30)) is None


def _b36(number: int) -> str:
    from conversations.planning_pattern import ids_token

    return ids_token(frozenset({number}))


async def test_several_days_summary_counts_days_not_bookings(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    """Garderie soir and its goûter on 3 Mondays and 3 Thursdays: "6 jours réservés", not 12."""
    from conversations.planning_pattern import pattern_data

    jean = botapi.user(101, "Jean")
    await link(jean)
    lucas, soir = await _ids(runtime, "LUCAS", "garderie_soir")
    _, gouter = await _ids(runtime, "LUCAS", "gouter")
    await jean.tap_data(
        jean.last_message(),
        pattern_data(frozenset({lucas}), 0b1001, frozenset({soir, gouter}), confirm=True),
    )
    summary = await jean.next_message()
    booked = {
        dt.date(2026, 11, 23) + dt.timedelta(days=d)
        for d in range(26)
        if (dt.date(2026, 11, 23) + dt.timedelta(days=d)).weekday() in (0, 3)
    }
    count = sum(1 for day in booked if day > dt.date(2026, 11, 23))  # Monday 23 itself is too late
    assert f"{count} jours réservés." in summary.text and "déjà" not in summary.text
    assert (
        await entry_status(runtime, "LUCAS", "gouter", dt.date(2026, 12, 17)) == DayStatus.RESERVED
    )


async def test_the_day_view_lists_only_what_runs_and_promises_nothing_past(
    botapi: BotApiStub, link, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    from bot import callbacks

    jean = botapi.user(101, "Jean")
    await link(jean)
    lucas, cantine = await _ids(runtime, "LUCAS", "cantine")
    thursday = "20261203"
    await jean.tap_data(
        jean.last_message(), callbacks.build(callbacks.PLANNING_DAY, lucas, thursday)
    )
    day = await jean.next_message()
    assert (
        "ne fonctionne pas" not in day.text and "Mercredi" not in day.text
    )  # the Wednesday and holiday ALSH
    await jean.tap_data(
        day, callbacks.build(callbacks.PLANNING_ACTION, "b", lucas, cantine, thursday)
    )
    booked = await jean.next_message()
    assert "Annulation gratuite jusqu’au vendredi 27 novembre 2026 à 12:00" in booked.text
    clock.now = dt.datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)  # the free cancellation is over
    await jean.tap_data(booked, callbacks.build(callbacks.PLANNING_DAY, lucas, thursday))
    later = await jean.next_message()
    assert "Annulation gratuite" not in later.text and "est dépassé" in later.text
    clock.now = dt.datetime(2026, 12, 3, 14, 0, tzinfo=PARIS)  # the meal is over
    await jean.tap_data(later, callbacks.build(callbacks.PLANNING_DAY, lucas, thursday))
    over = await jean.next_message()
    assert "Annulation gratuite" not in over.text and "est terminé" in over.text


async def test_closed_and_holiday_days_say_why(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from bot import callbacks
    from storage.models import Closure

    jean = botapi.user(101, "Jean")
    await link(jean)
    lucas, _cantine = await _ids(runtime, "LUCAS", "cantine")
    async with runtime.database.unit_of_work() as uow:
        uow.session.add(
            Closure(
                day=dt.date(2026, 12, 4),
                service_id=None,
                reason="Formation du personnel",
                created_at=runtime.now(),
            )
        )
        await uow.commit()
    await jean.tap_data(
        jean.last_message(), callbacks.build(callbacks.PLANNING_DAY, lucas, "20261204")
    )
    closed = await jean.next_message()
    assert (
        "fermée ce jour-là\u00a0: Formation du personnel" in closed.text
        and "ne fonctionne pas" not in closed.text
    )
    await jean.tap_data(closed, callbacks.build(callbacks.PLANNING_DAY, lucas, "20261225"))
    christmas = await jean.next_message()
    assert "Jour férié (Noël)" in christmas.text and "ne fonctionne pas" not in christmas.text


async def test_a_closed_holiday_window_says_since_when(runtime: Runtime) -> None:
    from bot.domain.rules import Decision, Outcome, Reason
    from bot.i18n import use_language
    from conversations.planning_texts import explain_refusal

    closed = Decision(
        Outcome.REFUSED,
        Reason.BOOKING_WINDOW_CLOSED,
        deadline=dt.datetime(2026, 12, 4, 18, 0, tzinfo=PARIS),
        opens_at=dt.datetime(2026, 11, 16, 8, 0, tzinfo=PARIS),
    )
    with use_language("fr"):
        text = explain_refusal(closed, runtime)
    assert "closes depuis le vendredi 4 décembre 2026 à 18:00" in text and "ouvrent" not in text


async def test_the_month_title_elides_before_a_vowel(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    month = await open_child_month(jean, "EMMA")
    assert "Planning d’EMMA" in month.text and "de EMMA" not in month.text


async def test_during_the_christmas_holidays_the_first_school_day_can_be_booked(
    botapi: BotApiStub, link, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    """Monday 4 January 2027 closes on Sunday 3 at 18:30, not on Friday 18 December."""
    from bot import callbacks

    jean = botapi.user(101, "Jean")
    await link(jean)
    lucas, matin = await _ids(runtime, "LUCAS", "garderie_matin")
    clock.now = dt.datetime(2026, 12, 28, 10, 0, tzinfo=PARIS)
    await jean.tap_data(
        jean.last_message(), callbacks.build(callbacks.PLANNING_DAY, lucas, "20270104")
    )
    day = await jean.next_message()
    assert "18 décembre" not in day.text
    await jean.tap_data(
        day, callbacks.build(callbacks.PLANNING_ACTION, "b", lucas, matin, "20270104")
    )
    booked = await jean.next_message()
    assert (
        await entry_status(runtime, "LUCAS", "garderie_matin", dt.date(2027, 1, 4))
        == DayStatus.RESERVED
    )
    assert "Annulation gratuite jusqu’au dimanche 3 janvier 2027 à 18:30" in booked.text
