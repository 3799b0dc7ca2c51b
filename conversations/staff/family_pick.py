"""A staff command's family, typed as a N° famille or a name, with a choice when several match.

    @staff_action("staff.family_sheet")
    async def family(update, context):
        number = await family_argument(update, context, "famille", words[0], rest)
        if number is None:
            return  # answered: nobody has that name or number, or a choice is offered
        await run(update, context, number, rest)

    register_pick("famille", run)  # what a tap on the choice continues with

`run(update, context, number, rest)` must answer with `update.effective_message.reply_text`
(after a tap, that is the choice message). The resolver itself is
`bot.services.family_lookup.find_family`, shared by every command.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.i18n import _
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services.family_lookup import FamilyLookup, find_family
from conversations.common import answer_query, escape
from conversations.staff.common import Context, staff_action

Runner = Callable[[Update, Context, str, str], Awaitable[Any]]
PICKS_KEY = "family_picks"
"""chat_data key: {token: [command, rest]} of commands waiting for the family to be chosen."""
MAX_PICKS = 10
_RUNNERS: dict[str, Runner] = {}


def register_pick(command: str, runner: Runner) -> None:
    """What a tap on the choice of a family continues with, for this command."""
    _RUNNERS[command] = runner


def lookup_error(lookup: FamilyLookup) -> str:
    """Nobody matches what was typed."""
    if lookup.by_number:
        return _("No family has the number {number}.").format(number=escape(lookup.query))
    return _("No family is named “{name}” (type a N° famille or a guardian's last name).").format(
        name=escape(lookup.query)
    )


async def family_argument(
    update: Update, context: Context, command: str, word: str, rest: str = ""
) -> str | None:
    """The N° famille meant by `word` (a number or a name); None once it has answered instead."""
    message = update.effective_message
    runtime = get_runtime(context)
    lookup = await find_family(runtime.database, word)
    if lookup.family is not None:
        return lookup.family.number
    if message is None:
        return None
    if not lookup.matches:
        await message.reply_text(lookup_error(lookup))
        return None
    picks = _picks(context)
    while len(picks) >= MAX_PICKS:
        picks.pop(next(iter(picks)))
    token = secrets.token_hex(4)
    picks[token] = [command, rest]
    rows = [
        [
            InlineKeyboardButton(
                f"{choice.name or '—'} — {choice.number}"[:60],
                callback_data=callbacks.build(callbacks.STAFF_PICK_FAMILY, token, choice.number),
            )
        ]
        for choice in lookup.matches
    ]
    await message.reply_text(
        _("Several families match “{name}”: which one?").format(name=escape(lookup.query)),
        reply_markup=InlineKeyboardMarkup(rows),
    )
    return None


@staff_action("staff.pick_family")
async def picked(update: Update, context: Context) -> None:
    """A tap on one of the families offered: the command goes on with it."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None or not isinstance(query.message, Message):
        return
    entry = _picks(context).pop(parsed.arg(0), None)
    runner = _RUNNERS.get(entry[0]) if entry else None
    if entry is None or runner is None:
        await answer_query(update, _("This button is no longer valid."), show_alert=True)
        return
    await answer_query(update)
    await runner(update, context, parsed.arg(1), str(entry[1]))


def _picks(context: Context) -> dict[str, list[str]]:
    chat_data = context.chat_data if context.chat_data is not None else {}
    picks: dict[str, list[str]] = chat_data.setdefault(PICKS_KEY, {})  # chat_data holds Any
    return picks


def build_handlers() -> list[AnyHandler]:
    """The choice buttons."""
    return [CallbackQueryHandler(picked, pattern=callbacks.pattern(callbacks.STAFF_PICK_FAMILY))]
