"""Tous mes enfants: a day of the planning for every child, and one tap for all of them.

The day shows each child's services with their own buttons, then, for a service two or more
children can use that day, "… pour tous": book, cancel or declare an absence for each of them
in one confirmation. Each child is still checked against its own enrolments and the rules, and
the answer lists the outcome child by child.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.domain.model import AbsenceReason
from bot.domain.planning import day_code, parse_day
from bot.i18n import _, format_day, format_moment
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services import bookings
from bot.services.bookings import (
    ActionResult,
    FamilyActionResult,
    FamilyDay,
    GroupAction,
    ServiceDay,
)
from bot.services.use_case import NotAllowed
from conversations.common import Context, escape, parent_handler, show, user_id_of
from conversations.planning import ALL_CHILDREN, day_rows, month_button, render_day_text
from conversations.planning_texts import render_outcome
from storage.models import Child

# Callback codes of a group action: what, and for an absence its reason.
GROUP_CODES = {
    "b": (GroupAction.BOOK, None),
    "c": (GroupAction.CANCEL, None),
    "i": (GroupAction.ABSENCE, AbsenceReason.ILLNESS),
    "p": (GroupAction.ABSENCE, AbsenceReason.PERSONAL),
    "o": (GroupAction.ABSENCE, AbsenceReason.OTHER),
}
MAX_ROWS = 90  # Telegram allows 100 buttons on a message


@parent_handler
async def on_family_day(update: Update, context: Context) -> None:
    """A day of the "tous mes enfants" month."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    day = parse_day(parsed.arg(1)) if parsed else None
    if day is None:
        raise NotAllowed()
    runtime = get_runtime(context)
    view = await bookings.family_day(
        runtime.database,
        user_id_of(update),
        day,
        structure=runtime.structure,
        tz=runtime.settings.tz,
        now=runtime.now(),
    )
    await show_family_day(update, runtime, view)


async def show_family_day(
    update: Update, runtime: Runtime, view: FamilyDay, notice: str = ""
) -> None:
    """Every child's services that day, their buttons, and the "for all" buttons."""
    day, per_child = view.day, list(view.children)
    sections = [notice, ""] if notice else []
    views = {v.child.id: v for v in view.views}
    sections += [
        render_day_text(child, day, services, runtime, view=views.get(child.id))
        for child, services in per_child
    ]
    rows = group_rows(day, per_child)
    for child, services in per_child:
        rows += day_rows(child.id, day, services, prefix=f"{child.first_name} · ")
    rows = rows[:MAX_ROWS]
    rows.append([month_button(ALL_CHILDREN, day)])
    await show(update, "\n\n".join(sections), InlineKeyboardMarkup(rows))


def group_rows(
    day: dt.date, per_child: list[tuple[Child, list[ServiceDay]]]
) -> list[list[InlineKeyboardButton]]:
    """ "… for all" buttons for services that two or more children can use that day."""
    rows = []
    by_service: dict[int, list[ServiceDay]] = {}
    for _child, services in per_child:
        for item in services:
            by_service.setdefault(item.service_id, []).append(item)

    def button(service: ServiceDay, label: str, code: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label.format(service=service.name),
            callback_data=callbacks.build(
                callbacks.PLANNING_GROUP, code, service.service_id, day_code(day), 0
            ),
        )

    for items in by_service.values():
        first = items[0]
        if sum(1 for i in items if i.book is not None and i.book.allowed) >= 2:
            rows.append([button(first, _("👨‍👩‍👧 Book for all: {service}"), "b")])
        if sum(1 for i in items if i.cancel is not None and i.cancel.allowed) >= 2:
            rows.append([button(first, _("👨‍👩‍👧 Cancel for all: {service}"), "c")])
            rows.append([button(first, _("👨‍👩‍👧 All ill: {service}"), "i")])
    return rows


@parent_handler
async def on_group(update: Update, context: Context) -> None:
    """Book / cancel / declare an absence for every child; late ones ask consent first."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        raise NotAllowed()
    code, service_id, day, late = (
        parsed.arg(0),
        parsed.int_arg(1),
        parse_day(parsed.arg(2)),
        parsed.arg(3) == "1",
    )
    if code not in GROUP_CODES or service_id is None or day is None:
        raise NotAllowed()
    action, reason = GROUP_CODES[code]
    runtime = get_runtime(context)
    done = await bookings.act_for_children(
        runtime.database,
        user_id_of(update),
        action,
        service_id,
        day,
        structure=runtime.structure,
        tz=runtime.settings.tz,
        now=runtime.now(),
        reason=reason,
        accept_late=late,
    )
    if done.late:
        await _ask_consent(update, done, code, service_id, day, runtime)
        return
    notice = _outcome_lines(done.done, runtime) or _(
        "No child is enrolled in this service that day."
    )
    await show_family_day(update, runtime, done.view, notice=notice)


def _outcome_lines(results: list[tuple[Child, ActionResult]], runtime: Runtime) -> str:
    return "\n".join(
        f"<b>{escape(child.first_name)}</b> : {render_outcome(result, runtime)}"
        for child, result in results
    )


async def _ask_consent(
    update: Update,
    done: FamilyActionResult,
    code: str,
    service_id: int,
    day: dt.date,
    runtime: Runtime,
) -> None:
    """Past the deadline for some children: what was done for the others, then the question."""
    late = done.late
    deadline = late[0][1].deadline
    lines = [_outcome_lines(done.done, runtime), ""] if done.done else []
    lines.append(
        _("⚠️ The deadline has passed for: {children}.").format(
            children=", ".join(escape(c.first_name) for c, _r in late)
        )
    )
    if deadline is not None:
        lines.append(
            _("It was {deadline}.").format(deadline=format_moment(deadline, runtime.settings.tz))
        )
    lines.append(
        _("If you confirm, the day will be billed unless the structure excuses the absence.")
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("Confirm"),
                    callback_data=callbacks.build(
                        callbacks.PLANNING_GROUP, code, service_id, day_code(day), 1
                    ),
                )
            ],
            [
                InlineKeyboardButton(
                    _("Back"),
                    callback_data=callbacks.build(
                        callbacks.PLANNING_DAY, ALL_CHILDREN, day_code(day)
                    ),
                )
            ],
        ]
    )
    await show(
        update, "\n".join(lines) + "\n" + _("Day: {day}").format(day=format_day(day)), keyboard
    )


def build_handlers() -> list[AnyHandler]:
    """Register before the planning's own day handler."""
    return [
        CallbackQueryHandler(on_family_day, pattern=rf"^{callbacks.PLANNING_DAY}:{ALL_CHILDREN}:"),
        CallbackQueryHandler(on_group, pattern=callbacks.pattern(callbacks.PLANNING_GROUP)),
    ]
