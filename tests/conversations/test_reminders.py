"""Reminders through the real bot and the local Bot API: content, exactly once, restarts,
429s, blocked parents, preferences, staff headcount and digest, two ticks at once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.domain.model import RequestKind
from bot import reminder_job
from bot.domain.reminders import ReminderKind
from bot.services.reminders import ReminderSettings
from bot.runtime import Runtime
from bot.services import bookings
from bot.services.requests import submit_request
from storage.models import TelegramLink, Vaccination
from tests.conversations.conftest import Clock, start_application, stop_application
from tests.support.outbox import Delivered, deliver_reminders, wait_until_final
from tests.support.botapi import BotApiStub

PARIS = ZoneInfo("Europe/Paris")
FRIDAY_11 = dt.datetime(2026, 11, 27, 11, 0, tzinfo=PARIS)  # 1 h before the cantine cutoff of next week
DUPONT, MARTIN = "1001001818331", "1001001818332"


async def link_directly(runtime: Runtime, user_id: int, number: str) -> int:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        await uow.repos.telegram.get_or_create_user(user_id)
        uow.repos.telegram.add_link(TelegramLink(family_id=family.id, telegram_user_id=user_id, linked_at=runtime.now(), linked_by="invite"))
        await uow.commit()
        return family.id


async def run_reminders(bot, runtime: Runtime, *kinds: ReminderKind) -> Delivered:  # type: ignore[no-untyped-def]
    """Run the job once, for the given kinds (default: booking reminders only), and wait until
    the running bot has delivered what it queued."""
    settings = ReminderSettings(kinds=frozenset(kinds or (ReminderKind.BOOKING,)))
    return await deliver_reminders(runtime, settings)


def only_cantine(runtime: Runtime) -> None:
    """Keep the structure's cantine only, so each test reads one kind of reminder."""
    runtime.structure = dataclasses.replace(runtime.structure, services=tuple(s for s in runtime.structure.services if s.code == "cantine"))


async def test_booking_reminder_names_children_service_and_deadline_with_a_button(botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock) -> None:  # type: ignore[type-arg]
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


async def test_a_child_already_booked_is_not_reminded(botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    jean = botapi.user(101, "Jean")
    family_id = await link_directly(runtime, 101, DUPONT)
    async with runtime.database.unit_of_work() as uow:
        lucas = next(c for c in await uow.repos.families.children(family_id) if c.first_name == "LUCAS")
        cantine = await uow.repos.structure.service_by_code("cantine")
        planning = await bookings.load_planning(uow, runtime.structure, PARIS, dt.date(2026, 11, 1), dt.date(2026, 12, 31))
        result = await bookings.book(uow, planning, family_id, lucas, cantine.id, dt.date(2026, 12, 1), clock.now, actor=101)
        await uow.commit()
    assert result.outcome == bookings.BookingOutcome.BOOKED
    clock.now = FRIDAY_11
    await run_reminders(bot.bot, runtime)
    text = (await jean.next_message()).text
    assert "EMMA" in text and "LUCAS" not in text


async def test_exactly_once_across_runs_and_a_restart(botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock) -> None:  # type: ignore[type-arg]
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
    restarted = Runtime(settings=runtime.settings, database=runtime.database, structure=runtime.structure, clock=clock)
    after = await run_reminders(bot.bot, restarted)
    assert after.sent == 2
    assert (await run_reminders(bot.bot, restarted)).sent == 0
    sent = [c for c in botapi.calls("sendMessage")]
    assert len(sent) == 4 and len({(c.params["chat_id"], c.params["text"]) for c in sent}) == 2


async def test_a_reminder_left_in_flight_by_a_killed_process_is_sent_once_after_the_restart(botapi: BotApiStub, runtime: Runtime, clock: Clock) -> None:
    only_cantine(runtime)
    await link_directly(runtime, 101, DUPONT)
    jean = botapi.user(101, "Jean")
    clock.now = FRIDAY_11
    queued = await reminder_job.queue_reminders(runtime, ReminderSettings(kinds=frozenset({ReminderKind.BOOKING})))
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


async def test_429_is_waited_out_and_nothing_is_lost(botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    for user_id in range(301, 306):
        await link_directly(runtime, user_id, DUPONT)
        botapi.user(user_id, f"Parent{user_id}")
    botapi.set_rate_limits(global_per_second=2)
    clock.now = FRIDAY_11
    report = await run_reminders(bot.bot, runtime)
    assert report.sent == 5 and report.failed == 0
    assert botapi.flood_rejections > 0
    assert sorted(c.params["chat_id"] for c in botapi.calls("sendMessage")) == [301, 302, 303, 304, 305]


async def test_a_parent_who_blocked_the_bot_is_skipped_without_stopping_the_others(botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock) -> None:  # type: ignore[type-arg]
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


async def test_turning_booking_reminders_off_with_rappels(botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock, link) -> None:  # type: ignore[no-untyped-def,type-arg]
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


async def test_staff_get_the_final_headcount_and_the_morning_digest(botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    runtime.settings = runtime.settings.model_copy(update={"admin_chat_id": -100777})
    group = botapi.group(-100777, "Staff")
    family_id = await link_directly(runtime, 101, DUPONT)
    async with runtime.database.unit_of_work() as uow:
        lucas = next(c for c in await uow.repos.families.children(family_id) if c.first_name == "LUCAS")
        cantine = await uow.repos.structure.service_by_code("cantine")
        planning = await bookings.load_planning(uow, runtime.structure, PARIS, dt.date(2026, 11, 1), dt.date(2026, 12, 31))
        await bookings.book(uow, planning, family_id, lucas, cantine.id, dt.date(2026, 11, 30), clock.now, actor=101)
        await submit_request(uow, family_id=family_id, kind=RequestKind.CAF, payload={}, created_by=101, now=clock.now)
        await uow.commit()
    clock.now = dt.datetime(2026, 11, 27, 12, 5, tzinfo=PARIS)
    await run_reminders(bot.bot, runtime, ReminderKind.HEADCOUNT, ReminderKind.DIGEST)
    texts = [m.text for m in group.messages()]
    headcount = next(t for t in texts if "Effectifs définitifs" in t)
    assert "lundi 30 novembre 2026 : 1 enfant" in headcount and "mardi 1 décembre 2026 : 0 enfant" in headcount
    assert any("1 demande attend" in t for t in texts)
    await run_reminders(bot.bot, runtime, ReminderKind.HEADCOUNT, ReminderKind.DIGEST)
    assert len(group.messages()) == len(texts)


async def test_invoice_and_vaccine_reminders(botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    botapi.user(101, "Jean")
    family_id = await link_directly(runtime, 101, DUPONT)
    async with runtime.database.unit_of_work() as uow:
        unpaid = await uow.repos.accounts.unpaid_invoices(family_id)
        due_on = unpaid[0].invoice.due_on
        lucas = next(c for c in await uow.repos.families.children(family_id) if c.first_name == "LUCAS")
        uow.session.add(Vaccination(child_id=lucas.id, name="DTPolio", booster_on=due_on + dt.timedelta(days=5)))
        await uow.commit()
    clock.now = dt.datetime.combine(due_on - dt.timedelta(days=2), dt.time(12, 0), tzinfo=PARIS)
    await run_reminders(bot.bot, runtime, ReminderKind.INVOICE, ReminderKind.VACCINE)
    texts = [m.text for m in botapi.user(101, "Jean").messages()]
    assert any("AL-36" in t and "120,60" in t.replace("\u202f", " ").replace("\xa0", " ") for t in texts)
    assert any("DTPolio" in t and "LUCAS" in t for t in texts)
    assert Decimal("120.60") == unpaid[0].due


async def test_two_senders_at_once_send_each_reminder_once(botapi: BotApiStub, bot: Application, runtime: Runtime, clock: Clock) -> None:  # type: ignore[type-arg]
    only_cantine(runtime)
    for user_id in range(401, 411):
        await link_directly(runtime, user_id, DUPONT if user_id % 2 else MARTIN)
        botapi.user(user_id, "Parent")
    clock.now = FRIDAY_11
    first, second = await asyncio.gather(run_reminders(bot.bot, runtime), run_reminders(bot.bot, runtime))
    assert first.sent + second.sent == 10
    assert len(botapi.calls("sendMessage")) == 10


