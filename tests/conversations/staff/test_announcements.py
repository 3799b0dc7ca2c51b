"""/annonce: every linked family hears it once, under Telegram's limits, even if some blocked the bot."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.model import GuardianRole
from bot.runtime import Runtime
from storage.models import Family, Guardian, TelegramLink, TelegramUser
from tests.conversations.staff.conftest import plain
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")

FAMILIES = 60
FIRST_PARENT = 5000


async def _linked_families(botapi: BotApiStub, runtime: Runtime, count: int) -> list[FakeUser]:
    """`count` more families, each with one parent who linked their Telegram account."""
    parents = []
    async with runtime.database.unit_of_work() as uow:
        for index in range(count):
            family = Family(
                number=f"20000000{index:04d}",
                guardians=[
                    Guardian(
                        role=GuardianRole.RESPONSABLE,
                        last_name=f"FAMILLE{index}",
                        first_name="PARENT",
                    )
                ],
            )
            uow.repos.families.add(family)
            await uow.session.flush()
            user_id = FIRST_PARENT + index
            uow.session.add(TelegramUser(id=user_id, language="fr"))
            await uow.session.flush()
            uow.session.add(
                TelegramLink(
                    family_id=family.id,
                    telegram_user_id=user_id,
                    linked_at=runtime.now(),
                    linked_by="invite",
                )
            )
            parents.append(botapi.user(user_id, f"Parent{index}"))
        await uow.commit()
    return parents


async def test_an_announcement_reaches_every_family_under_the_limits_and_skips_who_blocked_the_bot(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    parents = await _linked_families(botapi, runtime, FAMILIES)
    blocked = parents[7]
    botapi.block(blocked.id)
    botapi.set_rate_limits(global_per_second=30, group_per_minute=20)

    await claire.send(
        "/annonce Le centre de loisirs sera fermé le vendredi 18 décembre.\nBonnes fêtes à tous !",
        chat=admin_group,
    )
    preview = await admin_group.next_message()
    assert f"{FAMILIES} familles ({FAMILIES} comptes Telegram)" in plain(preview.text)
    assert "Bonnes fêtes à tous" in preview.text
    assert all(not p.messages() for p in parents)  # nothing sent before confirmation

    first = await claire.tap(preview, "✅ Envoyer")
    second = await claire.tap(preview, "✅ Envoyer")  # a double tap
    await botapi.wait_callback_answer(first)
    assert "déjà été envoyée" in (await botapi.wait_callback_answer(second))["text"]

    report = None
    while report is None or "Annonce envoyée" not in report.text:
        report = await admin_group.next_message(timeout=15)
    assert f"Annonce envoyée à {FAMILIES - 1} comptes." in plain(report.text)
    assert "1 compte a bloqué le bot" in report.text
    for parent in parents:
        received = [m for m in parent.messages() if "fermé le vendredi 18 décembre" in m.text]
        assert len(received) == (0 if parent is blocked else 1), parent.first_name
        assert all("Annonce du Service Enfance Jeunesse" in m.text for m in received)
    assert botapi.flood_rejections == 0
    await asyncio.sleep(0.2)
    async with runtime.database.unit_of_work() as uow:
        blocked_user = await uow.repos.telegram.get_user(blocked.id)
        reached_user = await uow.repos.telegram.get_user(parents[0].id)
        family = await uow.repos.families.get_by_number("200000000000")
        inbox = await uow.repos.messages.of_family(
            family.id, direction=None, deleted=False, limit=5
        )
    assert blocked_user.unreachable_since is not None and reached_user.unreachable_since is None
    assert len(inbox) == 1 and inbox[0].subject == "announcement"


async def test_an_announcement_can_be_cancelled(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    parents = await _linked_families(botapi, runtime, 2)
    await claire.send("/annonce Test", chat=admin_group)
    preview = await admin_group.next_message()
    await claire.tap(preview, "✖️ Annuler")
    assert "Annonce annulée" in (await admin_group.next_message()).text
    await asyncio.sleep(0.3)
    assert all(not p.messages() for p in parents)
    await claire.send("/annonce", chat=admin_group)
    assert "Utilisation\u00a0: /annonce" in (await admin_group.next_message()).text
