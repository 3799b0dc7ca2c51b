"""Helpers of the Mon compte / Mes enfants stories: forged or repeated button taps."""

from __future__ import annotations

import secrets

from tests.support.botapi import BotApiStub, ChatMessage, FakeUser


def forge_tap(botapi: BotApiStub, user: FakeUser, message: ChatMessage, data: str) -> str:
    """Tap a button carrying `data` on `message`, whatever its buttons are now.

    What a tampered client, or a second tap on a button already replaced, sends. Returns the
    callback query id (see `BotApiStub.wait_callback_answer`).
    """
    stored = botapi.chat(message.chat_id).messages[message.message_id]
    query_id = f"forged{secrets.token_hex(6)}"
    botapi._open_queries[query_id] = {
        "user_id": user.id,
        "chat_id": stored.chat_id,
        "message_id": stored.message_id,
        "data": data,
    }
    botapi.enqueue_update(
        {
            "callback_query": {
                "id": query_id,
                "from": user.as_user(),
                "message": stored.data,
                "chat_instance": str(abs(stored.chat_id) * 31),
                "data": data,
            }
        }
    )
    return query_id
