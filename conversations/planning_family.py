"""Tous mes enfants: a day of the planning for every child, and one tap for all of them.

The day shows each child's services with their own buttons, then, for a service two or more
children can use that day, "… pour tous": book, cancel or declare an absence for each of them
in one confirmation. Each child is still checked against its own enrolments and the rules, and
the answer lists the outcome child by child.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks
from bot.domain.model import AbsenceReason
from bot.domain.planning import day_code, parse_day
from bot.domain.rules import Consequence
from bot.i18n import _, format_day, format_moment
from bot.runtime import get_runtime
from bot.services import bookings
from bot.services.bookings import ActionResult, BookingOutcome, GroupAction, ServiceDay
from conversations.common import Context, escape, linked_family, show
from conversations.planning import ALL_CHILDREN, after_action, day_rows, month_button, render_day_text
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


async def on_family_day(update: Update, context: Context) -> None:
    """A day of the "tous mes enfants" month."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None:
        return
    await query.answer()
    family_id = await linked_family(update, context)
    day = parse_day(parsed.arg(1)) if parsed else None
    if family_id is None or day is None:
        return
    await show_family_day(update, context, family_id, day)


async def show_family_day(update: Update, context: Context, family_id: int, day: dt.date, notice: str = "") -> None:
    """Every child's services that day, their buttons, and the "for all" buttons."""
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        planning = await bookings.load_planning(uow, runtime.structure, runtime.settings.tz, day, day)
        per_child = [
            (child, await bookings.day_services(uow, planning, family_id, child, day, runtime.now()))
            for child in await bookings.children_of_family(uow, family_id)
        ]
    sections = [notice, ""] if notice else []
    sections += [render_day_text(child, day, services, runtime) for child, services in per_child]
    rows = group_rows(day, per_child)
    for child, services in per_child:
        rows += day_rows(child.id, day, services, prefix=f"{child.first_name} · ")
    rows = rows[:MAX_ROWS]
    rows.append([month_button(ALL_CHILDREN, day)])
    await show(update, "\n\n".join(sections), InlineKeyboardMarkup(rows))


def group_rows(day: dt.date, per_child: list[tuple[Child, list[ServiceDay]]]) -> list[list[InlineKeyboardButton]]:
    """"… for all" buttons for services that two or more children can use that day."""
    rows = []
    by_service: dict[int, list[ServiceDay]] = {}
    for _child, services in per_child:
        for item in services:
            by_service.setdefault(item.service_id, []).append(item)
    for service_id, items in by_service.items():
        name = items[0].name

        def button(label: str, code: str) -> InlineKeyboardButton:
            return InlineKeyboardButton(
                label.format(service=name), callback_data=callbacks.build(callbacks.PLANNING_GROUP, code, service_id, day_code(day), 0)
            )

        if sum(1 for i in items if i.book is not None and i.book.allowed) >= 2:
            rows.append([button(_("👨‍👩‍👧 Book for all: {service}"), "b")])
        if sum(1 for i in items if i.cancel is not None and i.cancel.allowed) >= 2:
            rows.append([button(_("👨‍👩‍👧 Cancel for all: {service}"), "c")])
            rows.append([button(_("👨‍👩‍👧 All ill: {service}"), "i")])
    return rows


async def on_group(update: Update, context: Context) -> None:
    """Book / cancel / declare an absence for every child; late ones ask consent first."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None:
        return
    await query.answer()
    family_id = await linked_family(update, context)
    if parsed is None or family_id is None:
        return
    code, service_id, day, late = parsed.arg(0), parsed.int_arg(1), parse_day(parsed.arg(2)), parsed.arg(3) == "1"
    if code not in GROUP_CODES or service_id is None or day is None:
        await show(update, _("This button is no longer valid."))
        return
    action, reason = GROUP_CODES[code]
    runtime = get_runtime(context)
    user_id = update.effective_user.id if update.effective_user else None
    async with runtime.database.unit_of_work() as uow:
        planning = await bookings.load_planning(uow, runtime.structure, runtime.settings.tz, day, day)
        results = await bookings.act_for_children(
            uow, planning, family_id, service_id, day, runtime.now(), actor=user_id, action=action, reason=reason, accept_late=late
        )
        await uow.commit()
    if not late and any(_needs_consent(result) for _child, result in results):
        await _ask_consent(update, results, code, service_id, day, runtime)
        return
    for _child, result in results:
        await after_action(context, result, day)
    lines = [f"<b>{escape(child.first_name)}</b> : {render_outcome(result, runtime)}" for child, result in results]
    await show_family_day(update, context, family_id, day, notice="\n".join(lines) or _("No child is enrolled in this service that day."))


def _needs_consent(result: ActionResult) -> bool:
    decision = result.decision
    return (
        result.outcome == BookingOutcome.REFUSED
        and decision is not None
        and decision.allowed
        and decision.consequence is Consequence.BILLED_UNLESS_EXCUSED
    )


async def _ask_consent(update: Update, results: list[tuple[Child, ActionResult]], code: str, service_id: int, day: dt.date, runtime) -> None:  # type: ignore[no-untyped-def]
    late = [(child, result) for child, result in results if _needs_consent(result)]
    deadline = late[0][1].decision.deadline if late[0][1].decision else None  # type: ignore[union-attr]
    lines = [_("⚠️ The deadline has passed for: {children}.").format(children=", ".join(escape(c.first_name) for c, _r in late))]
    if deadline is not None:
        lines.append(_("It was {deadline}.").format(deadline=format_moment(deadline, runtime.settings.tz)))
    lines.append(_("If you confirm, the day will be billed unless the structure excuses the absence."))
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("Confirm"), callback_data=callbacks.build(callbacks.PLANNING_GROUP, code, service_id, day_code(day), 1))],
            [InlineKeyboardButton(_("Back"), callback_data=callbacks.build(callbacks.PLANNING_DAY, ALL_CHILDREN, day_code(day)))],
        ]
    )
    await show(update, "\n".join(lines) + "\n" + _("Day: {day}").format(day=format_day(day)), keyboard)


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Register before the planning's own day handler."""
    return [
        CallbackQueryHandler(on_family_day, pattern=rf"^{callbacks.PLANNING_DAY}:{ALL_CHILDREN}:"),
        CallbackQueryHandler(on_group, pattern=callbacks.pattern(callbacks.PLANNING_GROUP)),
    ]
