"""Fetching updates without letting one undecodable update stop the bot.

python-telegram-bot decodes a whole `getUpdates` batch at once; one update it cannot decode
(a poll in an older Bot API server's shape, say) fails the batch, and polling retries the same
batch in a tight loop. `TolerantUpdatesRequest` checks each update of a batch first: one that
cannot be decoded is logged once (its kind and where decoding failed, never its content) and
replaced by an empty update of the same id, which no handler takes, so the offset moves on.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest

logger = logging.getLogger("portail_famille.updates")


def tolerate_undecodable(result: Any) -> Any:
    """The batch with every update that cannot be decoded replaced by its bare id."""
    if not isinstance(result, list):
        return result
    checked: list[Any] = []
    for item in result:
        if not isinstance(item, dict) or "update_id" not in item:
            continue
        try:
            Update.de_json(dict(item), None)
        except Exception as error:
            kind = next((key for key in item if key != "update_id"), "?")
            frame = traceback.extract_tb(error.__traceback__)[-1:]
            where = f"{frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno}" if frame else "?"
            logger.error(
                "update %s skipped: a %s the bot cannot decode (%s at %s)",
                item["update_id"],
                kind,
                type(error).__name__,
                where,
            )
            checked.append({"update_id": item["update_id"]})
            continue
        checked.append(item)
    return checked


class TolerantUpdatesRequest(HTTPXRequest):
    """The `getUpdates` connection: skips what cannot be decoded (see the module)."""

    async def post(self, url: str, *args: Any, **kwargs: Any) -> Any:
        """The call's result; a getUpdates batch is checked update by update."""
        result = await super().post(url, *args, **kwargs)
        if url.rstrip("/").endswith("getUpdates"):
            return tolerate_undecodable(result)
        return result
