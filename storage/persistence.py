"""python-telegram-bot persistence kept in the database, so dialogues survive a restart and
several processes (workers) can serve the same bot.

Conversation states and user/chat data are stored as JSON rows of `bot_state`. Only plain JSON
values may be put in `user_data`/`chat_data`; bot_data holds the runtime wiring and is not stored.

**Per update** (`per_update=True`, what the bot uses): nothing is loaded at start and nothing is
kept between updates. The update processor wraps each update in `update_scope(update)`, which

1. on PostgreSQL, opens a transaction on a connection of its own and takes two transaction
   advisory locks, one for the update's chat and one for its user (one in a private chat), so
   that no other worker handles an update of the same chat or user meanwhile;
2. reads, in ONE SELECT, the rows of this chat and user: its user_data, its chat_data and its
   state in every persistent conversation (keys `[chat]`, `[user]`, `[chat, user]`), and puts
   them in the application's dictionaries, where the handlers find them;
3. after the handlers, writes in ONE upsert (and one DELETE for what ended) only the rows whose
   value changed, commits (which frees the locks), and forgets them from memory.

On SQLite (one process) the read and the write are two short transactions and the locks are
the update processor's own (by chat) plus one by user here. python-telegram-bot's periodic
`update_persistence` then has nothing to write. Conversations keyed per message
(`per_message=True`) are not covered: the bot has none.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._handlers.conversationhandler import PendingState
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.db import Database
from storage.repositories import BotStateRepository

logger = logging.getLogger(__name__)

_CONVERSATION = "conversation:"
_USER = "user_data"
_CHAT = "chat_data"

_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(:first, 0)),"
    " pg_advisory_xact_lock(hashtextextended(:second, 0))"
)
"""The chat's and the user's state locks (the same key twice in a private chat: held once)."""


@dataclass(frozen=True)
class StateKeys:
    """Whose state an update reads and writes: its chat and its user."""

    chat_id: int | None
    user_id: int | None

    @classmethod
    def of(cls, update: object) -> StateKeys | None:
        """The keys of an update, or None for one without chat nor user."""
        if not isinstance(update, Update):
            return None
        chat, user = update.effective_chat, update.effective_user
        if chat is None and user is None:
            return None
        return cls(chat.id if chat else None, user.id if user else None)

    def conversation_keys(self) -> list[tuple[int, ...]]:
        """The keys a conversation handler may use for this update (per chat, user, or both)."""
        keys: list[tuple[int, ...]] = []
        if self.chat_id is not None:
            keys.append((self.chat_id,))
        if self.user_id is not None and self.user_id != self.chat_id:
            keys.append((self.user_id,))
        if self.chat_id is not None and self.user_id is not None:
            keys.append((self.chat_id, self.user_id))
        return keys

    def lock_names(self, structure_id: int | None) -> tuple[str, str]:
        """The two advisory lock names, in a fixed order so that two workers never deadlock
        (each structure's bot has its own: the same person may talk to two)."""
        ids = sorted({i for i in (self.chat_id, self.user_id) if i is not None})
        names = [f"pf-state:{structure_id}:{i}" for i in ids]
        return names[0], names[-1]


class DatabasePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """Stores conversations, user_data and chat_data in the `bot_state` table."""

    def __init__(
        self,
        database: Database,
        update_interval: float = 1.0,
        *,
        per_update: bool = False,
        state_connections: int = 8,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.database = database
        self.per_update = per_update
        """Read and write each update's state around it (see the module), not once at start."""
        self.state_connections = state_connections
        """PostgreSQL connections held by updates being handled (at most the updates at once)."""
        self._stored: dict[tuple[str, str], str | None] = {}
        """What each row holds, as last read or written: an unchanged value is not written again."""
        self._application: Any = None
        self._user_locks: dict[int, asyncio.Lock] = {}
        self._user_waiting: dict[int, int] = {}
        self._state_sessions: async_sessionmaker[AsyncSession] | None = None

    def attach(self, application: Any) -> None:
        """The application whose dictionaries `update_scope` fills and empties."""
        self._application = application

    # ------------------------------------------------------------------ per update

    @asynccontextmanager
    async def update_scope(self, update: object) -> AsyncIterator[None]:
        """Around one update: load its chat's and user's state, then write what changed."""
        keys = StateKeys.of(update) if self.per_update and self._application else None
        if keys is None:
            yield
            return
        async with self._user_lock(keys.user_id):
            if self.database.backend == "postgresql":
                async with self._locked_session(keys) as session:
                    repository = BotStateRepository(session)
                    self._put(keys, await repository.load_keys(*self._wanted(keys)))
                    try:
                        yield
                    finally:
                        try:
                            await self._write(keys, repository)
                            await session.commit()  # frees the locks
                        except Exception as exc:
                            _not_saved(exc)
                        finally:
                            self._forget(keys)
            else:
                async with self.database.unit_of_work(read_only=True) as uow:
                    self._put(keys, await uow.repos.bot_state.load_keys(*self._wanted(keys)))
                try:
                    yield
                finally:
                    try:
                        async with self.database.unit_of_work() as uow:
                            if await self._write(keys, uow.repos.bot_state):
                                await uow.commit()
                    except Exception as exc:
                        _not_saved(exc)
                    finally:
                        self._forget(keys)

    @asynccontextmanager
    async def _user_lock(self, user_id: int | None) -> AsyncIterator[None]:
        """One user's updates in two chats (private and admin group) wait for each other here;
        the update processor already orders one chat's."""
        if user_id is None:
            yield
            return
        lock = self._user_locks.setdefault(user_id, asyncio.Lock())
        self._user_waiting[user_id] = self._user_waiting.get(user_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._user_waiting[user_id] -= 1
            if not self._user_waiting[user_id]:
                del self._user_waiting[user_id], self._user_locks[user_id]

    @asynccontextmanager
    async def _locked_session(self, keys: StateKeys) -> AsyncIterator[AsyncSession]:
        if self._state_sessions is None:
            self._state_sessions = self.database.state_sessions(self.state_connections)
        async with self._state_sessions() as session:
            first, second = keys.lock_names(self.database.structure_id)
            await session.execute(_LOCK, {"first": first, "second": second})
            yield session

    def _conversations(self) -> dict[str, Any]:
        # The application's TrackingDicts, by conversation name (nested ones included).
        conversations: dict[str, Any] = self._application._conversation_handler_conversations
        return conversations

    def _wanted(self, keys: StateKeys) -> tuple[list[str], list[str]]:
        kinds = [_USER, _CHAT, *(_CONVERSATION + name for name in self._conversations())]
        wanted = [json.dumps(list(key)) for key in keys.conversation_keys()]
        wanted += [str(i) for i in {keys.chat_id, keys.user_id} if i is not None]
        return kinds, wanted

    def _rows(self, keys: StateKeys) -> list[tuple[str, str, Any]]:
        """(kind, key, the value in memory now) of every row this update may touch."""
        application = self._application
        rows: list[tuple[str, str, Any]] = []
        if keys.user_id is not None:
            rows.append((_USER, str(keys.user_id), application._user_data.get(keys.user_id)))
        if keys.chat_id is not None:
            rows.append((_CHAT, str(keys.chat_id), application._chat_data.get(keys.chat_id)))
        for name, states in self._conversations().items():
            for key in keys.conversation_keys():
                rows.append((_CONVERSATION + name, json.dumps(list(key)), states.data.get(key)))
        return rows

    def _put(self, keys: StateKeys, found: dict[tuple[str, str], Any]) -> None:
        """Make the application's dictionaries hold what the database holds for this update."""
        application = self._application
        for kind, key, _current in self._rows(keys):
            value = found.get((kind, key))
            self._stored[(kind, key)] = None if value is None else json.dumps(value, sort_keys=True)
            if kind == _USER:
                application._user_data[int(key)] = value or {}
            elif kind == _CHAT:
                application._chat_data[int(key)] = value or {}
            else:
                states = self._conversations()[kind.removeprefix(_CONVERSATION)]
                conversation_key = tuple(json.loads(key))
                if isinstance(states.data.get(conversation_key), PendingState):
                    continue  # a non-blocking handler still running here (the bot has none)
                if value is None:
                    states.data.pop(conversation_key, None)
                else:
                    states.data[conversation_key] = value

    async def _write(self, keys: StateKeys, repository: BotStateRepository) -> bool:
        """Write the rows whose value changed during the update; True when something was."""
        changed: list[tuple[str, str, Any]] = []
        removed: list[tuple[str, str]] = []
        for kind, key, value in self._rows(keys):
            if isinstance(value, PendingState):
                value = value.old_state
            if kind in (_USER, _CHAT) and not value:
                value = None  # an empty dictionary is no row
            if value is None:
                if self._stored.get((kind, key)) is not None:
                    removed.append((kind, key))
                continue
            try:
                serialised = json.dumps(value, sort_keys=True)
            except (TypeError, ValueError):
                logger.error("%s of an update is not plain JSON: not saved", kind)
                continue
            if serialised != self._stored.get((kind, key)):
                changed.append((kind, key, json.loads(serialised)))  # a copy, as stored
        if changed or removed:
            await repository.write_keys(changed, removed)
        return bool(changed or removed)

    def _forget(self, keys: StateKeys) -> None:
        """Keep nothing of this update's state in memory: the next update reads it again."""
        application = self._application
        for kind, key, _value in self._rows(keys):
            self._stored.pop((kind, key), None)
            if kind not in (_USER, _CHAT):
                states = self._conversations()[kind.removeprefix(_CONVERSATION)]
                states.data.pop(tuple(json.loads(key)), None)
        if keys.user_id is not None:
            application._user_data.pop(keys.user_id, None)
            application._user_ids_to_be_updated_in_persistence.discard(keys.user_id)
        if keys.chat_id is not None:
            application._chat_data.pop(keys.chat_id, None)
            application._chat_ids_to_be_updated_in_persistence.discard(keys.chat_id)

    # ------------------------------------------------------------------ PTB's interface
    # With `per_update`, python-telegram-bot loads nothing at start and its periodic writer
    # has nothing to do: `update_scope` read and wrote each update's rows.

    async def _load(self, kind: str) -> dict[str, Any]:
        if self.per_update:
            return {}
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
        if self.per_update:
            return
        await self._save(_CONVERSATION + name, json.dumps(list(key)), new_state)

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        """Store one user's data."""
        if self.per_update:
            return
        await self._save(_USER, str(user_id), deepcopy(data) or None)

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        """Store one chat's data."""
        if self.per_update:
            return
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
        """Nothing to refresh: `update_scope` read the user's data before the update."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Nothing to refresh."""

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        """Nothing to refresh."""

    async def flush(self) -> None:
        """Every update was written as it came; close the connections of the state locks."""
        if self._state_sessions is not None:
            await self.database.close_state_connections()


def _not_saved(exc: Exception) -> None:
    logger.error("the state of an update was not saved: %s", type(exc).__name__)
