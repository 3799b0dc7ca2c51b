"""Reminders through the real bot and the local Bot API: content, exactly once, restarts,
429s, blocked parents, preferences, staff headcount and digest, two ticks at once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot import callbacks, reminder_job
from bot.domain.model import RequestKind
from bot.domain.reminders import ReminderKind
from bot.runtime import Runtime
from bot.services import bookings
from bot.services.reminders import ReminderSettings
from bot.services.requests import submit_request
from conversations.planning import ALL_CHILDREN
from storage.models import BookingWindow, Enrolment, TelegramLink, Vaccination
from tests.conversations.conftest import Clock, start_application, stop_application
from tests.support.botapi import BotApiStub
from tests.support.outbox import Delivered, deliver_reminders, wait_until_final

PARIS = ZoneInfo("Europe/Paris")
FRIDAY_11 = dt.datetime(
    2026, 11, 27, 11, 0, tzinfo=PARIS
)  # 1 h before the cantine cutoff of next week
DUPONT, MARTIN = "1001001818331", "1001001818332"


async def link_directly(runtime: Runtime, user_id: int, number: str) -> int:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        await uow.repos.telegram.get_or_create_user(user_id)
        uow.repos.telegram.add_link(
            TelegramLink(
                family_id=family.id,
                telegram_user_id=user_id,
                linked_at=runtime.now(),
                linked_by="invite",
            )
        )
        await uow.commit()
        return family.id


async def run_reminders(bot, runtime: Runtime, *kinds: ReminderKind) -> Delivered:  # type: ignore[no-untyped-def]
    """Run the job once, for the given kinds (default: booking reminders only), and wait until
    the running bot has delivered what it queued."""
    settings = ReminderSettings(kinds=frozenset(kinds or (ReminderKind.BOOKING,)))
    return await deliver_reminders(runtime, settings)


def only_cantine(runtime: Runtime) -> None:
    """Keep the structure's cantine only, so each test reads one kind of reminder."""
    runtime.structure = dataclasses.replace(
        runtime.structure,
        services=tuple(s for s in runtime.structure.services if s.code == "cantine"),
    )


async def test_booking_reminder_names_children_service_and_deadline_with_a_button(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    clock.now = FRIDAY_11
    only_cantine(runtime)
    await link_directly(runtime, 101, DUPONT)
    jean = botapi.user(101, "Jean")
    report = await run_reminders(bot.bot, runtime)
    assert report.sent == 1
    reminder = await jean.next_message()
    assert "EMMA, LUCAS" in reminder.text and "Restauration scolaire" in reminder.text
    assert "du lundi 30 novembre 2026 au vendredi 4 décembre 2026" in reminder.text
    assert "ferment vendredi 27 novembre 2026 à 12:00" in reminder.text
    await jean.tap(reminder, "📅 Réserver maintenant")
    month = await jean.next_message()
    assert "Planning de" in month.text


async def test_a_child_already_booked_is_not_reminded(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    jean = botapi.user(101, "Jean")
    family_id = await link_directly(runtime, 101, DUPONT)
    async with runtime.database.unit_of_work() as uow:
        lucas = next(
            c for c in await uow.repos.families.children(family_id) if c.first_name == "LUCAS"
        )
        cantine = await uow.repos.structure.service_by_code("cantine")
        planning = await bookings.load_planning(
            uow, runtime.structure, PARIS, dt.date(2026, 11, 1), dt.date(2026, 12, 31)
        )
        result = await bookings.book(
            uow, planning, family_id, lucas, cantine.id, dt.date(2026, 12, 1), clock.now, actor=101
        )
        await uow.commit()
    assert result.outcome == bookings.BookingOutcome.BOOKED
    clock.now = FRIDAY_11
    await run_reminders(bot.bot, runtime)
    text = (await jean.next_message()).text
    assert "EMMA" in text and "LUCAS" not in text


async def test_exactly_once_across_runs_and_a_restart(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    botapi.user(101, "Jean")
    botapi.user(202, "Sophie")
    await link_directly(runtime, 101, DUPONT)
    await link_directly(runtime, 202, MARTIN)
    clock.now = dt.datetime(2026, 11, 26, 12, 0, tzinfo=PARIS)  # exactly 24 h before
    first = await run_reminders(bot.bot, runtime)
    again = await run_reminders(bot.bot, runtime)
    assert (first.sent, again.due, again.sent) == (2, 0, 0)
    # The bot was down until 11:00 on Friday: the 2 h reminder is now due, sent once.
    clock.now = FRIDAY_11
    restarted = Runtime(
        settings=runtime.settings,
        database=runtime.database,
        structure=runtime.structure,
        clock=clock,
    )
    after = await run_reminders(bot.bot, restarted)
    assert after.sent == 2
    assert (await run_reminders(bot.bot, restarted)).sent == 0
    sent = list(botapi.calls("sendMessage"))
    assert len(sent) == 4 and len({(c.params["chat_id"], c.params["text"]) for c in sent}) == 2


async def test_a_reminder_left_in_flight_by_a_killed_process_is_sent_once_after_the_restart(
    botapi: BotApiStub, runtime: Runtime, clock: Clock
) -> None:
    only_cantine(runtime)
    await link_directly(runtime, 101, DUPONT)
    jean = botapi.user(101, "Jean")
    clock.now = FRIDAY_11
    queued = await reminder_job.queue_reminders(
        runtime, ReminderSettings(kinds=frozenset({ReminderKind.BOOKING}))
    )
    async with runtime.database.transaction() as uow:  # the sender had claimed it, then was killed
        await uow.repos.outbox.claim(clock.now, 10, audience="account")
    application = await start_application(runtime)
    try:
        assert "Restauration scolaire" in (await jean.next_message()).text
        await wait_until_final(runtime, queued.keys)
        assert (await run_reminders(application.bot, runtime)).due == 0
        await jean.expect_silence(0.3)
    finally:
        await stop_application(application)
    assert len(botapi.calls("sendMessage", chat_id=101)) == 1


async def test_429_is_waited_out_and_nothing_is_lost(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    for user_id in range(301, 306):
        await link_directly(runtime, user_id, DUPONT)
        botapi.user(user_id, f"Parent{user_id}")
    botapi.set_rate_limits(global_per_second=2)
    clock.now = FRIDAY_11
    report = await run_reminders(bot.bot, runtime)
    assert report.sent == 5 and report.failed == 0
    assert botapi.flood_rejections > 0
    assert sorted(c.params["chat_id"] for c in botapi.calls("sendMessage")) == [
        301,
        302,
        303,
        304,
        305,
    ]


async def test_a_parent_who_blocked_the_bot_is_skipped_without_stopping_the_others(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    await link_directly(runtime, 101, DUPONT)
    await link_directly(runtime, 102, DUPONT)
    botapi.user(101, "Jean")
    botapi.user(102, "Jeanne")
    botapi.block(101)
    clock.now = dt.datetime(2026, 11, 26, 12, 0, tzinfo=PARIS)
    report = await run_reminders(bot.bot, runtime)
    assert report.sent == 1 and report.unreachable == [101]
    clock.now = FRIDAY_11
    later = await run_reminders(bot.bot, runtime)
    assert later.due == 1 and later.sent == 1  # Jeanne only: Jean is unreachable now


async def test_turning_booking_reminders_off_with_rappels(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock, link
) -> None:  # type: ignore[no-untyped-def,type-arg]
    only_cantine(runtime)
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/rappels")
    settings = await jean.next_message()
    assert "🔔 Avant chaque date limite de réservation" in settings.button_labels
    await jean.tap(settings, "🔔 Avant chaque date limite de réservation")
    assert "🔕 Avant chaque date limite de réservation" in (await jean.next_message()).button_labels
    clock.now = FRIDAY_11
    assert (await run_reminders(bot.bot, runtime)).due == 0


async def test_staff_get_the_final_headcount_and_the_morning_digest(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    runtime.settings = runtime.settings.model_copy(update={"admin_chat_id": -100777})
    group = botapi.group(-100777, "Staff")
    family_id = await link_directly(runtime, 101, DUPONT)
    async with runtime.database.unit_of_work() as uow:
        lucas = next(
            c for c in await uow.repos.families.children(family_id) if c.first_name == "LUCAS"
        )
        cantine = await uow.repos.structure.service_by_code("cantine")
        planning = await bookings.load_planning(
            uow, runtime.structure, PARIS, dt.date(2026, 11, 1), dt.date(2026, 12, 31)
        )
        await bookings.book(
            uow, planning, family_id, lucas, cantine.id, dt.date(2026, 11, 30), clock.now, actor=101
        )
        await submit_request(
            uow,
            family_id=family_id,
            kind=RequestKind.CAF,
            payload={},
            created_by=101,
            now=clock.now,
        )
        await uow.commit()
    clock.now = dt.datetime(2026, 11, 27, 12, 5, tzinfo=PARIS)
    await run_reminders(bot.bot, runtime, ReminderKind.HEADCOUNT, ReminderKind.DIGEST)
    texts = [m.text.replace("\xa0", " ") for m in group.messages()]
    headcount = next(t for t in texts if "Effectifs définitifs" in t)
    assert (
        "lundi 30 novembre 2026 : 1 enfant" in headcount
        and "mardi 1 décembre 2026 : 0 enfant" in headcount
    )
    assert any("1 demande attend" in t for t in texts)
    await run_reminders(bot.bot, runtime, ReminderKind.HEADCOUNT, ReminderKind.DIGEST)
    assert len(group.messages()) == len(texts)


async def test_invoice_and_vaccine_reminders(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    botapi.user(101, "Jean")
    family_id = await link_directly(runtime, 101, DUPONT)
    async with runtime.database.unit_of_work() as uow:
        unpaid = await uow.repos.accounts.unpaid_invoices(family_id)
        due_on = unpaid[0].invoice.due_on
        lucas = next(
            c for c in await uow.repos.families.children(family_id) if c.first_name == "LUCAS"
        )
        uow.session.add(
            Vaccination(child_id=lucas.id, name="DTPolio", booster_on=due_on + dt.timedelta(days=5))
        )
        await uow.commit()
    clock.now = dt.datetime.combine(due_on - dt.timedelta(days=2), dt.time(12, 0), tzinfo=PARIS)
    await run_reminders(bot.bot, runtime, ReminderKind.INVOICE, ReminderKind.VACCINE)
    texts = [m.text for m in botapi.user(101, "Jean").messages()]
    assert any(
        "AL-36" in t and "120,60" in t.replace("\u202f", " ").replace("\xa0", " ") for t in texts
    )
    assert any("DTPolio" in t and "LUCAS" in t for t in texts)
    assert Decimal("120.60") == unpaid[0].due


async def test_two_senders_at_once_send_each_reminder_once(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    for user_id in range(401, 411):
        await link_directly(runtime, user_id, DUPONT if user_id % 2 else MARTIN)
        botapi.user(user_id, "Parent")
    clock.now = FRIDAY_11
    first, second = await asyncio.gather(
        run_reminders(bot.bot, runtime), run_reminders(bot.bot, runtime)
    )
    assert first.sent + second.sent == 10
    assert len(botapi.calls("sendMessage")) == 10


# --- one reminder per family and cutoff, per-service preferences, the button, the language ----

MONDAY_17 = dt.datetime(
    2026, 11, 30, 17, 0, tzinfo=PARIS
)  # 1 h 30 before the garderies' cutoff for Tuesday


def booking_data(message) -> str:  # type: ignore[no-untyped-def]
    return message.buttons[0][0]["callback_data"]


async def test_one_reminder_per_family_and_cutoff_lists_the_services_and_folds_the_gouter(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    await link_directly(runtime, 101, DUPONT)
    jean = botapi.user(101, "Jean")
    clock.now = MONDAY_17
    report = await run_reminders(bot.bot, runtime)
    assert (
        report.sent == 1
    )  # garderie matin, garderie soir and goûter share Monday 18:30: one message
    reminder = await jean.next_message()
    assert reminder.text.count("Garderie matin") == 1
    assert "Garderie soir + Goûter" in reminder.text
    assert "• EMMA, LUCAS" in reminder.text and reminder.text.count("Goûter") == 1
    assert len(reminder.buttons) == 1
    await jean.expect_silence(0.3)


async def test_the_button_of_a_reminder_for_two_children_opens_the_booking_of_both(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    await link_directly(runtime, 101, DUPONT)
    jean = botapi.user(101, "Jean")
    clock.now = MONDAY_17
    await run_reminders(bot.bot, runtime)
    reminder = await jean.next_message()
    assert booking_data(reminder) == callbacks.build(
        callbacks.PLANNING_DAY, ALL_CHILDREN, "20261201"
    )
    await jean.tap(reminder, "📅 Réserver maintenant")
    day = await jean.next_message()
    assert "EMMA" in day.text and "LUCAS" in day.text


async def test_a_parent_turns_off_the_reminders_of_one_service_only(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock, link
) -> None:  # type: ignore[no-untyped-def,type-arg]
    jean = botapi.user(101, "Jean")
    await link(jean)
    async with runtime.database.unit_of_work() as uow:
        matin = await uow.repos.structure.service_by_code("garderie_matin")
    await jean.send_command("/rappels")
    settings = await jean.next_message()
    data = callbacks.build(callbacks.REMINDER_SERVICE_TOGGLE, matin.id, "0")
    assert data in [b["callback_data"] for row in settings.buttons for b in row]
    await jean.tap_data(settings, data)
    updated = await jean.next_message()
    assert callbacks.build(callbacks.REMINDER_SERVICE_TOGGLE, matin.id, "1") in [
        b["callback_data"] for row in updated.buttons for b in row
    ]
    clock.now = MONDAY_17
    assert (await run_reminders(bot.bot, runtime)).sent == 1
    text = (await jean.next_message()).text
    assert "Garderie matin" not in text and "Garderie soir" in text


async def test_a_parent_whose_app_is_in_english_gets_reminders_in_english_unless_they_chose_french(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock, link
) -> None:  # type: ignore[no-untyped-def,type-arg]
    only_cantine(runtime)
    john = botapi.user(101, "John", language_code="en")
    await link(john)
    mary = botapi.user(102, "Mary", language_code="en")
    await link(mary)
    await mary.send_command("/langue")
    choice = await mary.next_message()
    await mary.tap_data(choice, callbacks.build(callbacks.LANGUAGE, "fr"))
    await mary.next_message()
    clock.now = FRIDAY_11
    assert (await run_reminders(bot.bot, runtime)).sent == 2
    assert "Reminder" in (await john.next_message()).text
    assert "Rappel" in (await mary.next_message()).text


# --- a reminder during a Telegram outage ---------------------------------------------------


async def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def outbox_rows(runtime: Runtime, keys: list[str]):  # type: ignore[no-untyped-def]
    async with runtime.database.unit_of_work() as uow:
        return await uow.repos.outbox.with_keys(keys)


async def test_a_reminder_that_failed_in_an_outage_is_delivered_once_when_telegram_is_back_before_the_cutoff(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    await link_directly(runtime, 101, DUPONT)
    jean = botapi.user(101, "Jean")
    botapi.fail_next("sendMessage", 502, "Bad Gateway", times=3)
    clock.now = FRIDAY_11
    queued = await reminder_job.queue_reminders(
        runtime, ReminderSettings(kinds=frozenset({ReminderKind.BOOKING}))
    )

    async def failed_once() -> bool:
        rows = await outbox_rows(runtime, queued.keys)
        return bool(rows) and rows[0].status == "pending" and rows[0].last_error is not None

    await wait_for(failed_once)
    await jean.expect_silence(0.2)
    for minutes in (5, 10, 20):  # each retry is due a little later; the third one gets through
        attempts = (await outbox_rows(runtime, queued.keys))[0].attempts
        clock.now = FRIDAY_11 + dt.timedelta(minutes=minutes)

        async def tried_again(attempts: int = attempts) -> bool:
            row = (await outbox_rows(runtime, queued.keys))[0]
            return row.attempts > attempts and row.status != "sending"

        await wait_for(tried_again)
    rows = await wait_until_final(runtime, queued.keys)
    assert rows[0].status == "sent"
    assert "Restauration scolaire" in (await jean.next_message()).text
    await jean.expect_silence(0.3)
    assert len(jean.messages()) == 1


async def test_a_reminder_still_undelivered_at_its_cutoff_expires_and_staff_are_told_how_many(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    runtime.settings = runtime.settings.model_copy(update={"admin_chat_id": -100777})
    group = botapi.group(-100777, "Staff")
    await link_directly(runtime, 101, DUPONT)
    jean = botapi.user(101, "Jean")
    botapi.fail_next("sendMessage", 502, "Bad Gateway")  # then no retry is due before the cutoff
    clock.now = FRIDAY_11
    queued = await reminder_job.queue_reminders(
        runtime, ReminderSettings(kinds=frozenset({ReminderKind.BOOKING}))
    )

    async def failed_once() -> bool:
        rows = await outbox_rows(runtime, queued.keys)
        return bool(rows) and rows[0].last_error is not None

    await wait_for(failed_once)
    clock.now = dt.datetime(2026, 11, 27, 12, 1, tzinfo=PARIS)  # the outage lasted past the cutoff
    rows = await wait_until_final(runtime, queued.keys)
    assert rows[0].status == "expired"
    clock.now = dt.datetime(2026, 11, 27, 12, 5, tzinfo=PARIS)
    again = await reminder_job.queue_reminders(
        runtime, ReminderSettings(kinds=frozenset({ReminderKind.BOOKING}))
    )
    assert again.due == 0
    notice = await group.next_message()
    assert "1 rappel n’a pas pu être remis" in notice.text
    assert "DUPONT" not in notice.text and "EMMA" not in notice.text
    await reminder_job.queue_reminders(
        runtime, ReminderSettings(kinds=frozenset({ReminderKind.BOOKING}))
    )
    await group.expect_silence(0.5)  # told once per cutoff
    await jean.expect_silence(0.1)
    assert not jean.messages()


# --- the final headcount shows pending requests apart --------------------------------------


async def test_the_final_headcount_shows_requests_still_pending_apart(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    runtime.structure = dataclasses.replace(
        runtime.structure,
        services=tuple(s for s in runtime.structure.services if s.code == "alsh_mercredi"),
    )
    runtime.settings = runtime.settings.model_copy(update={"admin_chat_id": -100777})
    group = botapi.group(-100777, "Staff")
    family_id = await link_directly(runtime, 101, DUPONT)
    async with runtime.database.unit_of_work() as uow:
        lucas = next(
            c for c in await uow.repos.families.children(family_id) if c.first_name == "LUCAS"
        )
        alsh = await uow.repos.structure.service_by_code("alsh_mercredi")
        planning = await bookings.load_planning(
            uow, runtime.structure, PARIS, dt.date(2026, 11, 1), dt.date(2026, 12, 31)
        )
        result = await bookings.book(
            uow, planning, family_id, lucas, alsh.id, dt.date(2026, 12, 2), clock.now, actor=101
        )
        await uow.commit()
    assert result.outcome != bookings.BookingOutcome.BOOKED  # waits for staff
    clock.now = dt.datetime(2026, 11, 30, 10, 5, tzinfo=PARIS)
    await run_reminders(bot.bot, runtime, ReminderKind.HEADCOUNT)
    headcount = next(
        m.text.replace("\xa0", " ") for m in group.messages() if "Effectifs définitifs" in m.text
    )
    assert "mercredi 2 décembre 2026 : 0 enfant + 1 en attente" in headcount


# --- nothing that can wait is sent at night ------------------------------------------------


async def deferred_to(runtime: Runtime, keys: list[str], at: dt.datetime) -> None:
    async def waiting() -> bool:
        rows = await outbox_rows(runtime, keys)
        return bool(rows) and all(
            r.status == "pending" and r.available_at.astimezone(PARIS) == at for r in rows
        )

    await wait_for(waiting)


async def test_a_window_opening_at_midnight_and_its_reminders_wait_for_daytime(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    runtime.structure = dataclasses.replace(
        runtime.structure,
        services=tuple(s for s in runtime.structure.services if s.code == "alsh_vacances"),
    )
    await link_directly(runtime, 101, DUPONT)
    jean = botapi.user(101, "Jean")
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        emma = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "EMMA"
        )
        service = await uow.repos.structure.service_by_code("alsh_vacances")
        uow.session.add(
            Enrolment(
                child_id=emma.id,
                service_id=service.id,
                family_id=family.id,
                starts_on=dt.date(2026, 9, 1),
            )
        )
        uow.session.add(
            BookingWindow(
                service_id=service.id,
                period_starts_on=dt.date(2026, 12, 19),
                period_ends_on=dt.date(2027, 1, 3),
                opens_at=dt.datetime(2026, 12, 5, 0, 0, 2, tzinfo=PARIS),
                closes_at=dt.datetime(2026, 12, 6, 23, 59, tzinfo=PARIS),
            )
        )
        await uow.commit()
    kinds = ReminderSettings(kinds=frozenset({ReminderKind.WINDOW_OPEN, ReminderKind.BOOKING}))
    clock.now = dt.datetime(2026, 12, 5, 0, 0, 2, tzinfo=PARIS)  # the window opens at 00:00:02
    opened = await reminder_job.queue_reminders(runtime, kinds)
    assert opened.due == 1  # the opening; its 24 h reminder is not due
    morning = dt.datetime(2026, 12, 5, 8, 0, tzinfo=PARIS)
    await deferred_to(runtime, opened.keys, morning)
    await jean.expect_silence(0.3)
    clock.now = morning
    await wait_until_final(runtime, opened.keys)
    assert "ALSH Vacances" in (await jean.next_message()).text
    # The window closes on Sunday at 23:59: the 24 h reminder would go at Saturday 23:59.
    clock.now = dt.datetime(2026, 12, 5, 23, 59, tzinfo=PARIS)
    assert (await reminder_job.queue_reminders(runtime, kinds)).due == 0
    clock.now = dt.datetime(2026, 12, 6, 8, 0, tzinfo=PARIS)
    assert (await run_reminders(bot.bot, runtime)).sent == 1
    # and the 2 h reminder at 21:59 goes the evening before the cutoff, at 20:00.
    clock.now = dt.datetime(2026, 12, 6, 19, 59, tzinfo=PARIS)
    assert (await reminder_job.queue_reminders(runtime, kinds)).due == 0
    clock.now = dt.datetime(2026, 12, 6, 20, 0, tzinfo=PARIS)
    assert (await run_reminders(bot.bot, runtime)).sent == 1
    clock.now = dt.datetime(2026, 12, 6, 21, 59, tzinfo=PARIS)
    assert (await reminder_job.queue_reminders(runtime, kinds)).due == 0


async def test_a_date_reminder_due_at_midnight_waits_for_the_morning(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    jean = botapi.user(101, "Jean")
    family_id = await link_directly(runtime, 101, DUPONT)
    async with runtime.database.unit_of_work() as uow:
        lucas = next(
            c for c in await uow.repos.families.children(family_id) if c.first_name == "LUCAS"
        )
        uow.session.add(
            Vaccination(child_id=lucas.id, name="DTPolio", booster_on=dt.date(2026, 12, 10))
        )
        await uow.commit()
    clock.now = dt.datetime(2026, 12, 1, 0, 0, tzinfo=PARIS)
    queued = await reminder_job.queue_reminders(
        runtime, ReminderSettings(kinds=frozenset({ReminderKind.VACCINE, ReminderKind.INVOICE}))
    )
    assert queued.keys
    await deferred_to(runtime, queued.keys, dt.datetime(2026, 12, 1, 8, 0, tzinfo=PARIS))
    await jean.expect_silence(0.3)
    clock.now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=PARIS)
    await wait_until_final(runtime, queued.keys)
    assert "DTPolio" in (await jean.next_message()).text


async def test_the_staff_digest_is_not_sent_at_ten_at_night(
    botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    runtime.settings = runtime.settings.model_copy(update={"admin_chat_id": -100777})
    group = botapi.group(-100777, "Staff")
    family_id = await link_directly(runtime, 101, DUPONT)
    async with runtime.database.unit_of_work() as uow:
        await submit_request(
            uow,
            family_id=family_id,
            kind=RequestKind.CAF,
            payload={},
            created_by=101,
            now=clock.now,
        )
        await uow.commit()
    await group.next_message()  # the request's card
    before = len(group.messages())
    clock.now = dt.datetime(2026, 11, 23, 22, 0, tzinfo=PARIS)
    assert (
        await reminder_job.queue_reminders(
            runtime, ReminderSettings(kinds=frozenset({ReminderKind.DIGEST}))
        )
    ).due == 0
    await group.expect_silence(0.3)
    clock.now = dt.datetime(2026, 11, 24, 8, 0, tzinfo=PARIS)
    assert (await run_reminders(bot.bot, runtime, ReminderKind.DIGEST)).sent == 1
    assert any("1 demande attend" in m.text for m in group.messages()[before:])
