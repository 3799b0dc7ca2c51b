"""Holiday bookings: staff open the window with /vacances; families are told; a parent books a
day of the holidays, reminded of the weekly minimum; the request goes to staff."""

from __future__ import annotations

import dataclasses
import datetime as dt

from telegram.ext import Application

from bot.domain.model import DayStatus
from bot.domain.reminders import ReminderKind
from bot.runtime import Runtime
from bot.services.reminders import ReminderSettings
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser
from tests.support.outbox import deliver_reminders


async def test_staff_open_the_christmas_holidays_and_a_parent_books(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    link,
    admin_group: FakeGroup,
    claire: FakeUser,  # type: ignore[no-untyped-def,type-arg]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)

    async def open_day(label: str):  # type: ignore[no-untyped-def]
        await jean.send_command("/accueil")
        await jean.tap(await jean.next_message(), "📅 Planning")
        await jean.tap(await jean.next_message(), "LUCAS")
        await jean.tap(await jean.next_message(), "▶")
        await jean.tap(await jean.next_message(), label)
        return await jean.next_message()

    before = await open_day("21P")
    assert "ne sont pas encore ouvertes" in before.text

    await claire.send("/vacances 19/12/2026 03/01/2027 23/11/2026 12/12/2026", chat=admin_group)
    answer = await admin_group.next_message()
    assert (
        "✅" in answer.text
        and "ALSH Vacances" in answer.text
        and "samedi 12 décembre 2026 à 23:59" in answer.text
    )

    only_window = ReminderSettings(kinds=frozenset({ReminderKind.WINDOW_OPEN}))
    windowed = dataclasses.replace(
        runtime.structure,
        services=tuple(s for s in runtime.structure.services if s.code == "alsh_vacances"),
    )
    runtime.structure, full = windowed, runtime.structure
    assert (await deliver_reminders(runtime, only_window)).sent == 1
    runtime.structure = full
    told = await jean.next_message()
    assert (
        "Les réservations de Accueil de Loisirs ALSH Vacances journée pour les vacances"
        in told.text
    )

    day = await open_day("21P")
    await jean.tap(day, "✅ Réserver\u00a0: Accueil de Loisirs ALSH Vacances journée")
    booked = await jean.next_message()
    assert "Demande envoyée" in booked.text
    assert (
        "Au moins 2 jours par semaine sont demandés\u00a0: 1 réservé(s) pour l’instant cette semaine."
        in booked.text
    )
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        lucas = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
        service = await uow.repos.structure.service_by_code("alsh_vacances")
        entry = await uow.repos.planning.entry(lucas.id, service.id, dt.date(2026, 12, 21))
    assert entry.status == DayStatus.BOOKING_PROCESSING


async def test_only_staff_open_windows(
    botapi: BotApiStub, bot: Application, admin_group: FakeGroup, eve: FakeUser
) -> None:  # type: ignore[type-arg]
    await eve.send("/vacances 19/12/2026 03/01/2027 23/11/2026 12/12/2026")
    assert "réservée au personnel" in (await eve.next_message()).text


async def test_staff_set_garde_alternee_with_garde(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    admin_group: FakeGroup,
    claire: FakeUser,  # type: ignore[type-arg]
) -> None:
    from bot.domain.custody import in_custody

    await claire.send("/garde 1001001818331 lucas 02/12/2026", chat=admin_group)
    answer = await admin_group.next_message()
    assert "LUCAS" in answer.text and "lundi 30 novembre 2026" in answer.text
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        lucas = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
        link = await uow.repos.planning.family_link(family.id, lucas.id)
    assert link.custody_reference_monday == dt.date(2026, 11, 30)
    assert in_custody(link.custody, dt.date(2026, 12, 14), link.custody_reference_monday)
    assert not in_custody(link.custody, dt.date(2026, 12, 7), link.custody_reference_monday)
    await claire.send("/garde 1001001818331 NOBODY paire", chat=admin_group)
    assert "aucun enfant" in (await admin_group.next_message()).text
