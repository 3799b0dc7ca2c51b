"""Helpers of the Mon compte / Mes enfants stories: forged or repeated button taps."""

from __future__ import annotations

from tests.support.botapi import BotApiStub, ChatMessage, FakeUser


def forge_tap(botapi: BotApiStub, user: FakeUser, message: ChatMessage, data: str) -> str:
    """Tap a button carrying `data` on `message`, whatever its buttons are now.

    What a tampered client, or a second tap on a button already replaced, sends. Returns the
    callback query id (see `BotApiStub.wait_callback_answer`).
    """
    return botapi.callback_query(user, message, data)
