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
from telegram._utils.types import JSONDict

from bot.telegram_http import AiohttpRequest

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


class TolerantUpdatesRequest(AiohttpRequest):
    """The `getUpdates` connection: skips what cannot be decoded (see the module)."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """The decoded batch, checked update by update."""
        decoded = AiohttpRequest.parse_json_payload(payload)
        if "result" in decoded:
            decoded["result"] = tolerate_undecodable(decoded["result"])
        return decoded
