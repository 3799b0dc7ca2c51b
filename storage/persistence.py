"""python-telegram-bot persistence kept in the database, so dialogues survive a restart.

Conversation states and user/chat data are stored as JSON rows of `bot_state`. Only plain JSON
values may be put in `user_data`/`chat_data`; bot_data holds the runtime wiring and is not stored.
"""

from __future__ import annotations

import json
from collections import defaultdict
from copy import deepcopy
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.db import Database

_CONVERSATION = "conversation:"
_USER = "user_data"
_CHAT = "chat_data"


class DatabasePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """Stores conversations, user_data and chat_data in the `bot_state` table."""

    def __init__(self, database: Database, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.database = database
        self._stored: dict[tuple[str, str], str | None] = {}
        """What each row holds, as last read or written: an unchanged value is not written again."""

    async def _load(self, kind: str) -> dict[str, Any]:
        async with self.database.unit_of_work() as uow:
            rows = await uow.repos.bot_state.load(kind)
        self._stored.update(
            {(kind, key): json.dumps(value, sort_keys=True) for key, value in rows.items()}
        )
        return rows

    async def _save(self, kind: str, key: str, data: Any | None) -> None:
        serialised = None if data is None else json.dumps(data, sort_keys=True)
        if self._stored.get((kind, key)) == serialised:
            return
        async with self.database.unit_of_work() as uow:
            if data is None:
                await uow.repos.bot_state.remove(kind, key)
            else:
                await uow.repos.bot_state.save(kind, key, data)
            await uow.commit()
        self._stored[(kind, key)] = serialised

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        """All stored user_data, by user id."""
        rows = await self._load(_USER)
        return defaultdict(dict, {int(key): value for key, value in rows.items()})

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        """All stored chat_data, by chat id."""
        rows = await self._load(_CHAT)
        return defaultdict(dict, {int(key): value for key, value in rows.items()})

    async def get_bot_data(self) -> dict[str, Any]:
        """bot_data is runtime wiring, never stored."""
        return {}

    async def get_callback_data(self) -> CDCData | None:
        """Callback data are short opaque strings; nothing to store."""
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        """The states of one named conversation handler."""
        rows = await self._load(_CONVERSATION + name)
        return {tuple(json.loads(key)): state for key, state in rows.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store (or drop, when None) one conversation's state."""
        await self._save(_CONVERSATION + name, json.dumps(list(key)), new_state)

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        """Store one user's data."""
        await self._save(_USER, str(user_id), deepcopy(data) or None)

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        """Store one chat's data."""
        await self._save(_CHAT, str(chat_id), deepcopy(data) or None)

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        """bot_data is not stored."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Callback data are not stored."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Forget one chat's data."""
        await self._save(_CHAT, str(chat_id), None)

    async def drop_user_data(self, user_id: int) -> None:
        """Forget one user's data (on unlinking)."""
        await self._save(_USER, str(user_id), None)

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """Nothing to refresh: this process is the only writer of its users' data."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Nothing to refresh."""

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        """Nothing to refresh."""

    async def flush(self) -> None:
        """Every update was written as it came; nothing is pending."""
