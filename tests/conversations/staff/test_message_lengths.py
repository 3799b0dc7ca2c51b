"""Long texts between a parent and the staff: split, or refused with a clear answer, never cut silently."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.runtime import Runtime
from bot.telegram_text import utf16_len
from tests.conversations.conftest import DUPONT
from tests.conversations.staff.conftest import plain
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")
Link = Callable[[FakeUser], Awaitable[None]]


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
        and "Réponse du Service Enfance Jeunesse" in received[0].text
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


async def test_a_message_of_emoji_that_fits_in_python_characters_but_not_in_telegrams_units_is_split(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link: Link,
) -> None:
    """2,035 emoji: 4,070 UTF-16 units, so /message fits what Telegram lets staff write, but
    not with the header in one message; counted in Python characters (2,035) it would seem to."""
    jean = botapi.user(101, "Jean")
    await link(jean)
    body = "🎉" * 2035
    await claire.send_command("/message", DUPONT, body, chat=admin_group)
    assert "Envoyé" in (await admin_group.next_message(timeout=10)).text
    received = [await jean.next_message(timeout=10)]
    while sum(m.text.count("🎉") for m in received) < 2035:
        received.append(await jean.next_message(timeout=10))
    assert len(received) == 2 and "Message du Service Enfance Jeunesse" in received[0].text
    assert all(utf16_len(m.text) <= 4096 for m in received)
    assert [r.description for r in botapi.rejections] == []


async def test_a_parent_message_over_the_limit_in_telegrams_units_is_refused(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    runtime: Runtime,
    link: Link,
) -> None:
    """1,760 emoji are 3,520 units, over the 3,500 a parent may write (1,760 characters are not)."""
    jean = botapi.user(101, "Jean")
    await link(jean)
    refused = await _write(jean, "🎉" * 1760)
    assert "trop long" in refused and "3520" in refused and "3500" in refused
    await admin_group.expect_silence(0.3)


async def test_a_parents_pdf_with_a_long_emoji_caption_reaches_the_staff_whole(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    runtime: Runtime,
    link: Link,
) -> None:
    """500 emoji: a caption of 1,000 units, which Telegram accepts from the parent; with the
    relay's header it no longer fits a caption (1,024 units): the file comes, then the text."""
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "✉️ Boîte de réception")
    await jean.tap(await jean.next_message(), "✍️ Écrire à la structure")
    await jean.next_message()
    await jean.send_document(b"%PDF-1.4 certificat", "certificat.pdf", caption="🎉" * 500)
    assert "a été envoyé" in (await jean.next_message()).text
    relayed = [await admin_group.next_message(timeout=10)]
    while sum((m.text or m.caption or "").count("🎉") for m in relayed) < 500:
        relayed.append(await admin_group.next_message(timeout=10))
    assert relayed[0].document is not None and relayed[0].document["file_name"] == "certificat.pdf"
    assert all(utf16_len(m.caption or "") <= 1024 for m in relayed)
    assert all(utf16_len(m.text or "") <= 4096 for m in relayed)
    assert "Message de la famille" in " ".join(m.text or m.caption or "" for m in relayed)
    assert [r.description for r in botapi.rejections] == []
