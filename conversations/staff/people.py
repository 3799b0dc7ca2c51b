"""Who a Telegram account is, for staff: its name as Telegram shows it ("Jean Dupont").

The portal stores no Telegram names; the bot asks Telegram (getChat) when a staff screen
names people (`/historique`, `/famille`). An account Telegram no longer knows keeps its id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from telegram.error import TelegramError

logger = logging.getLogger(__name__)

MAX_LOOKUPS = 12
"""At most this many accounts are asked about for one screen (the others keep their id)."""


async def telegram_names(bot: Any, user_ids: Iterable[int | None]) -> dict[int, str]:
    """The Telegram name of each account (best effort: unknown ones are left out)."""
    names: dict[int, str] = {}
    for user_id in list(dict.fromkeys(uid for uid in user_ids if uid))[:MAX_LOOKUPS]:
        try:
            chat = await bot.get_chat(user_id)
        except TelegramError as exc:
            logger.info("no Telegram name for an account: %s", type(exc).__name__)
            continue
        name = " ".join(part for part in (chat.first_name, chat.last_name) if part) or (
            chat.username or ""
        )
        if name:
            names[user_id] = name[:80]
    return names
