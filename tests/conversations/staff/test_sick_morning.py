"""The sick-morning absence: declared at 07:30 with a doctor's certificate and excused in one
tap by staff; or without a certificate by the deadline, billed. The parent is told."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.absence_job import settle
from bot.domain.model import DayStatus
from bot.runtime import Runtime
from bot.services import bookings
from tests.conversations.conftest import DUPONT, Clock
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

PARIS = ZoneInfo("Europe/Paris")
TUESDAY = dt.date(2026, 11, 24)


async def book_cantine(runtime: Runtime) -> None:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        lucas = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
        cantine = await uow.repos.structure.service_by_code("cantine")
        planning = await bookings.load_planning(uow, runtime.structure, PARIS, TUESDAY, TUESDAY)
        before = dt.datetime(2026, 11, 16, 9, 0, tzinfo=PARIS)
        assert (
            await bookings.book(
                uow, planning, family.id, lucas, cantine.id, TUESDAY, before, actor=101
            )
        ).outcome == bookings.BookingOutcome.BOOKED
        await uow.commit()


async def status(runtime: Runtime) -> DayStatus | None:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        lucas = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
        cantine = await uow.repos.structure.service_by_code("cantine")
        entry = await uow.repos.planning.entry(lucas.id, cantine.id, TUESDAY)
        return entry.status if entry else None


async def declare_sick_at_0730(jean: FakeUser, clock: Clock):  # type: ignore[no-untyped-def]
    clock.now = dt.datetime(2026, 11, 24, 7, 30, tzinfo=PARIS)
    await jean.tap(jean.last_message(), "📅 Planning")
    await jean.tap(await jean.next_message(), "LUCAS")
    await jean.tap(await jean.next_message(), "[24✅]")
    day = await jean.next_message()
    await jean.tap(day, "🤒 Déclarer une absence\u00a0: Restauration scolaire")
    await jean.tap(await jean.next_message(), "🤒 Maladie")
    warning = await jean.next_message()
    assert (
        "date limite est dépassée" in warning.text
        and "vendredi 20 novembre 2026 à 12:00" in warning.text
    )
    await jean.tap(warning, "Confirmer")
    sent = await jean.next_message()
    assert "Absence transmise" in sent.text
    return sent


async def test_with_a_certificate_staff_excuse_it_in_one_tap(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    clock: Clock,
    link,
    admin_group: FakeGroup,
    claire: FakeUser,  # type: ignore[no-untyped-def,type-arg]
) -> None:
    await book_cantine(runtime)
    jean = botapi.user(101, "Jean")
    await link(jean)
    sent = await declare_sick_at_0730(jean, clock)
    assert await status(runtime) == DayStatus.ABSENCE_PROCESSING
    await jean.tap(sent, "📎 Envoyer le certificat médical")
    await jean.next_message()
    await jean.send_photo(b"\x89PNG certificate")
    assert "Certificat reçu" in (await jean.next_message()).text
    await admin_group.next_message()  # the card
    while not any(m.photo for m in admin_group.messages()):  # on the card, or following it
        await admin_group.next_message()
    staff_messages = admin_group.messages()
    card = next(m for m in staff_messages if "✅ Accepter" in m.button_labels)
    assert "LUCAS" in card.text
    assert any(m.photo for m in staff_messages), "the certificate is shown to staff"
    await claire.tap(card, "✅ Accepter")
    told = await jean.next_message()
    assert "acceptée" in told.text
    assert await status(runtime) == DayStatus.ABSENT_EXCUSED


async def test_without_a_certificate_by_the_deadline_the_day_is_billed(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    clock: Clock,
    link,
    admin_group: FakeGroup,  # type: ignore[no-untyped-def,type-arg]
) -> None:
    await book_cantine(runtime)
    jean = botapi.user(101, "Jean")
    await link(jean)
    await declare_sick_at_0730(jean, clock)
    clock.now = dt.datetime(
        2026, 11, 26, 7, 29, tzinfo=PARIS
    )  # 2 days minus a minute: still waiting
    assert await settle(runtime) == 0
    clock.now = dt.datetime(2026, 11, 26, 7, 31, tzinfo=PARIS)
    assert await settle(runtime) == 1
    assert await status(runtime) == DayStatus.ABSENT_BILLED
    told = await jean.next_message()
    assert "refusée" in told.text and "certificat" in told.text
    assert await settle(runtime) == 0


async def test_waiting_for_the_certificate_ends_with_any_other_command(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    clock: Clock,
    link,
    admin_group: FakeGroup,  # type: ignore[no-untyped-def,type-arg]
) -> None:
    await book_cantine(runtime)
    jean = botapi.user(101, "Jean")
    await link(jean)
    sent = await declare_sick_at_0730(jean, clock)
    await jean.tap(sent, "📎 Envoyer le certificat médical")
    assert "en photo ou en PDF" in (await jean.next_message()).text
    await jean.send("bonjour")
    assert "Envoyez une photo ou un PDF" in (await jean.next_message()).text
    await jean.send_command("/accueil")
    assert "Bienvenue JEAN DUPONT" in (await jean.next_message()).text
    await jean.send_photo(b"\x89PNG not a certificate any more")
    answer = await jean.next_message()
    assert "Certificat reçu" not in answer.text
    async with runtime.database.unit_of_work() as uow:
        from sqlalchemy import select

        from storage.models import Request

        request = (
            await uow.session.execute(select(Request).where(Request.kind == "absence"))
        ).scalar_one()
    assert request.attachment_file_id is None


async def test_staff_see_the_history_of_the_day(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    clock: Clock,
    link,
    admin_group: FakeGroup,
    claire: FakeUser,  # type: ignore[no-untyped-def,type-arg]
) -> None:
    await book_cantine(runtime)
    jean = botapi.user(101, "Jean")
    await link(jean)
    await declare_sick_at_0730(jean, clock)
    await claire.send("/historique 1001001818331 24/11/2026", chat=admin_group)
    answer = await admin_group.next_message()
    while "Historique" not in answer.text:  # the absence's card came first
        answer = await admin_group.next_message()
    assert "LUCAS" in answer.text and "Restauration scolaire" in answer.text
    assert "Jean (parent) : réservé" in answer.text  # the person, by name
    assert "réservé → absence en cours de traitement (demande n° " in answer.text
    eve = botapi.user(666, "Eve")
    await eve.send("/historique 1001001818331 24/11/2026")
    assert "réservée au personnel" in (await eve.next_message()).text
