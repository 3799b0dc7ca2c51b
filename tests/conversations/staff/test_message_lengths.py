"""Long texts between a parent and the staff: split, or refused with a clear answer, never cut silently."""

from __future__ import annotations

import pytest

from bot.runtime import Runtime
from bot.telegram_text import utf16_len
from tests.conversations.staff.conftest import plain
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")


async def _write(parent: FakeUser, text: str) -> str:
    await parent.send_command("/accueil")
    await parent.tap(await parent.next_message(), "✉️ Boîte de réception")
    await parent.tap(await parent.next_message(), "✍️ Écrire à la structure")
    await parent.next_message()
    await parent.send(text)
    return (await parent.next_message()).text


async def test_a_long_staff_answer_reaches_the_family_whole_and_staff_are_told_it_was_sent(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    assert "a été envoyé" in await _write(jean, "Bonjour, une question sur la cantine de Lucas ?")
    relayed = await admin_group.next_message()
    answer = "Réponse & détails 😀 " * 190  # ~4,000 units, with HTML to escape and emoji
    await claire.reply_to(relayed, answer.strip())
    received = [await jean.next_message()]
    while sum(len(m.text) for m in received) < len(answer.strip()):
        received.append(await jean.next_message())
    assert all(utf16_len(m.text) <= 4096 for m in received)
    whole = " ".join(" ".join(m.text for m in received).split())
    assert whole.count("Réponse & détails 😀") == 190  # nothing cut, not even a word
    assert (
        len(received) == 2
        and "Réponse de" in received[0].text
        and "Réponse & détails" in received[0].text
    )
    confirmation = plain((await admin_group.next_message()).text)
    assert "Envoyé à la famille" in confirmation and "aucun compte" not in confirmation


async def test_a_parent_message_too_long_to_show_whole_is_refused_and_can_be_sent_shorter(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    refused = await _write(jean, "Bonjour. " + "x" * 4081)  # 4,090 characters
    assert "trop long" in refused and "4090" in refused and "3500" in refused
    await admin_group.expect_silence(0.3)
    await jean.send("Bonjour, version courte.")
    assert "a été envoyé" in (await jean.next_message()).text
    relayed = await admin_group.next_message()
    assert "version courte" in relayed.text
