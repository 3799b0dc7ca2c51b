"""/historique N_FAMILLE DATE: the history of a family's day, for staff — each booking,
cancellation and absence with who made it, when, and from which request."""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import CommandHandler

from bot.domain.staff_input import split_trailing_day
from bot.i18n import _, format_day, format_timestamp
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services.bookings import DayHistory
from bot.services.staff_day import staff_day_history
from conversations.common import escape, user_id_of
from conversations.input_errors import day_error
from conversations.planning_texts import STATUS_LABELS
from conversations.staff.common import Context, command_text, staff_action
from conversations.staff.family_pick import family_argument, register_pick
from conversations.staff.people import telegram_names
from conversations.usages import usage


@staff_action("staff.day_history")
async def show_history(update: Update, context: Context) -> None:
    """Answer with the day's history, or how to use the command."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    words = command_text(update).split()
    if len(words) < 2:
        await message.reply_text(usage("historique"))
        return
    family_words, day = split_trailing_day(words, runtime.today())
    if day is None:
        await message.reply_text(
            day_error(words[-1], runtime.today()) + "\n\n" + usage("historique")
        )
        return
    number = await family_argument(
        update, context, "historique", " ".join(family_words), day.isoformat()
    )
    if number is not None:
        await show_day_history(update, context, number, day.isoformat())


async def show_day_history(update: Update, context: Context, number: str, day_text: str) -> None:
    """The history of a N° famille's day (also after choosing among several of a name)."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    day = dt.date.fromisoformat(day_text)
    history = await staff_day_history(
        runtime.database,
        runtime.structure,
        number,
        day,
        staff_id=user_id_of(update),
        now=runtime.now(),
    )
    if history is None:
        await message.reply_text(
            _("No family has the number {number}.").format(number=escape(number))
        )
        return
    names = await telegram_names(
        context.bot, [event.actor_telegram_id for item in history for event in item.events]
    )
    await message.reply_text(render_history(number, day, history, runtime.settings.tz, names))


def render_history(
    number: str,
    day: dt.date,
    history: list[DayHistory],
    tz: dt.tzinfo,
    names: dict[int, str] | None = None,
) -> str:
    """The day, service by service, each change on its own line."""
    lines = [
        _("<b>History of {day}</b> — family {number}").format(
            day=format_day(day), number=escape(number)
        )
    ]
    if not history:
        lines.append(_("Nothing booked or declared that day."))
    for item in history:
        lines += [
            "",
            f"<b>{escape(item.child_name)}</b> — {escape(item.service_name)} : {_(STATUS_LABELS[item.status])}",
        ]
        for event in item.events:
            name = (names or {}).get(event.actor_telegram_id or 0)
            if name:
                who = {
                    "parent": _("{name} (parent)").format(name=escape(name)),
                    "staff": _("{name} (staff)").format(name=escape(name)),
                }.get(event.actor_kind, _("the portal"))
            else:
                who = {
                    "parent": _("parent {id}").format(id=event.actor_telegram_id),
                    "staff": _("staff {id}").format(id=event.actor_telegram_id),
                }.get(event.actor_kind, _("the portal"))
            change = _(STATUS_LABELS[event.to_status])
            if event.from_status is not None:
                change = f"{_(STATUS_LABELS[event.from_status])} → {change}"
            request = (
                _(" (request no. {id})").format(id=event.request_id) if event.request_id else ""
            )
            lines.append(f"• {format_timestamp(event.at, tz)} — {who} : {change}{request}")
    return "\n".join(lines)


register_pick("historique", show_day_history)


def build_handlers() -> list[AnyHandler]:
    """/historique."""
    return [CommandHandler("historique", show_history)]
