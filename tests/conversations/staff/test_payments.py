"""/paiement as staff write it: a family's name as well as its N° famille, a choice when several
families have that name, and an unknown payment method named with the ones to choose from."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import callbacks
from bot.domain.model import GuardianRole
from bot.runtime import Runtime
from storage.models import Family, Guardian, Payment
from tests.conversations.conftest import DUPONT
from tests.conversations.staff.conftest import plain
from tests.support.botapi import BotApiStub, ChatMessage, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")

OTHER_DUPONT = "1001001818399"


def _data(message: ChatMessage, prefix: str) -> list[str]:
    return [
        b["callback_data"]
        for row in message.buttons
        for b in row
        if b.get("callback_data", "").startswith(prefix)
    ]


async def _payments(runtime: Runtime) -> list[tuple[str, str]]:
    """(N° famille, amount) of every payment recorded, oldest first."""
    async with runtime.database.unit_of_work() as uow:
        families = {f.id: f.number for f in (await uow.session.scalars(select(Family))).all()}
        rows = (await uow.session.scalars(select(Payment).order_by(Payment.id))).all()
    return [(families[p.family_id], str(p.amount)) for p in rows]


async def test_a_payment_is_recorded_by_the_familys_name(
    admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    before = await _payments(runtime)
    await claire.send_command("/paiement", "dupont", "45,50", "chèque", chat=admin_group)
    recorded = plain((await admin_group.next_message()).text)
    assert "45,50 € (Chèque) pour la famille 1001001818331 (JEAN DUPONT)" in recorded, recorded
    await claire.send_command("/paiement", "Jean", "Dupont", "10", "cb", chat=admin_group)
    recorded = plain((await admin_group.next_message()).text)
    assert "10,00 € (Carte bancaire) pour la famille 1001001818331" in recorded, recorded
    assert await _payments(runtime) == [*before, (DUPONT, "45.50"), (DUPONT, "10.00")]


async def test_a_name_two_families_share_offers_the_choice_and_pays_the_one_chosen(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    async with runtime.database.unit_of_work() as uow:
        other = Family(number=OTHER_DUPONT)
        other.guardians.append(
            Guardian(role=GuardianRole.RESPONSABLE, last_name="DUPONT", first_name="ÉMILE")
        )
        uow.session.add(other)
        await uow.commit()
    before = await _payments(runtime)
    await claire.send_command("/paiement", "DUPONT", "12", "espèces", chat=admin_group)
    choice = await admin_group.next_message()
    assert "Plusieurs familles correspondent à « DUPONT »" in plain(choice.text)
    picks = _data(choice, callbacks.STAFF_PICK_FAMILY + ":")
    assert [p.rsplit(":", 1)[1] for p in picks] == [DUPONT, OTHER_DUPONT]
    assert await _payments(runtime) == before  # nothing recorded before the choice

    await claire.tap_data(choice, picks[0])
    recorded = plain((await admin_group.next_message()).text)
    assert "12,00 € (Espèces) pour la famille 1001001818331 (JEAN DUPONT)" in recorded, recorded
    query = await claire.tap_data(choice, picks[1])  # the choice is used once
    assert "plus valable" in (await botapi.wait_callback_answer(query))["text"]
    assert await _payments(runtime) == [*before, (DUPONT, "12.00")]


async def test_an_unknown_payment_method_is_named_with_the_methods_to_choose_from(
    admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    before = await _payments(runtime)
    await claire.send_command("/paiement", DUPONT, "45,50", "bitcoin", chat=admin_group)
    error = plain((await admin_group.next_message()).text)
    assert (
        "mode inconnu : bitcoin — au choix : chèque, espèces, CESU, prélèvement, carte, titre émis"
        in error
    ), error
    await claire.send_command("/paiement", "DUPONT", "45,50", "bitcoin", chat=admin_group)
    assert "mode inconnu : bitcoin" in plain((await admin_group.next_message()).text)
    assert await _payments(runtime) == before
