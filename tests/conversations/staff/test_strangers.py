"""Strangers cannot freeze the bot: a group that is not the admin group gets no answer and the
bot leaves it; one user's flood of updates is throttled."""

from __future__ import annotations

import pytest

from bot.runtime import Runtime
from tests.conversations.staff.conftest import wait_until
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")


def _record_leaves(botapi: BotApiStub) -> list[int]:
    left: list[int] = []

    def leave(params):  # type: ignore[no-untyped-def]
        left.append(int(params.get("chat_id")))
        return True

    botapi.set_handler("leaveChat", leave)
    return left


async def test_in_a_strangers_group_the_bot_answers_nothing_and_leaves(
    botapi: BotApiStub, admin_group: FakeGroup, eve: FakeUser, claire: FakeUser, runtime: Runtime
) -> None:
    left = _record_leaves(botapi)
    theirs = botapi.group(-100555, "Le groupe d'Eve")
    for _ in range(45):
        await eve.send_command("/effectifs", chat=theirs)
    await claire.send_command(
        "/famille", "1001001818331", chat=theirs
    )  # even staff get nothing there
    await botapi.wait_for_delivery()
    await theirs.expect_silence(0.5)
    assert left == [theirs.id]  # left once, not once per update
    await claire.send_command("/demandes", chat=admin_group)  # the admin group is answered at once
    assert (await admin_group.next_message(timeout=5)).text


async def test_one_users_flood_is_throttled_with_one_polite_answer(botapi: BotApiStub) -> None:
    mallory = botapi.user(777, "Mallory")
    for _ in range(150):
        await mallory.send("bonjour")
    await wait_until(lambda: _told_to_wait(mallory))
    jean = botapi.user(101, "Jean")
    await jean.send("bonjour")  # another person is answered meanwhile
    assert await jean.next_message()
    await botapi.wait_for_delivery()
    await wait_until(lambda: _quiet(mallory))
    texts = [m.text for m in mallory.messages()]
    assert len(texts) < 100  # a burst is answered, the excess dropped
    assert sum("patientez" in t for t in texts) == 1


async def _told_to_wait(user: FakeUser) -> bool:
    return any("patientez" in m.text for m in user.messages())


_seen: dict[int, int] = {}


async def _quiet(user: FakeUser) -> bool:
    """True when nothing more came since the last look (looks 0.05 s apart)."""
    count = len(user.messages())
    quiet = _seen.get(user.id) == count
    _seen[user.id] = count
    return quiet
