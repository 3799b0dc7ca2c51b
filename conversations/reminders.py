"""Reminder texts (one per kind, in the recipient's language) and /rappels, where parents turn
each kind of reminder on or off."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.domain.planning import Month, day_code
from bot.domain.reminders import PARENT_KINDS, ReminderKind
from bot.i18n import N_, _, format_day, format_moment, format_money, ngettext
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services.preferences import (
    choose_reminder,
    choose_service_reminder,
    reminder_choices,
)
from bot.services.reminders import Reminder, ReminderChoices
from bot.services.staff_day import Headcount
from conversations.common import (
    Context,
    answer_query,
    escape,
    parent_handler,
    show,
    user_id_of,
)
from conversations.planning import ALL_CHILDREN

KIND_LABELS = {
    ReminderKind.BOOKING: N_("Before each booking deadline"),
    ReminderKind.WINDOW_OPEN: N_("When holiday bookings open"),
    ReminderKind.INVOICE: N_("Before an invoice's due date"),
    ReminderKind.VACCINE: N_("Before a vaccination booster"),
}


def render_reminder(
    reminder: Reminder, runtime: Runtime, headcounts: list[Headcount] | None = None
) -> str:
    """The text of a reminder, in the current language."""
    details, tz = reminder.details, runtime.settings.tz
    if reminder.kind == ReminderKind.BOOKING:
        lines = [
            _("⏰ <b>Reminder</b>: bookings close {deadline}. Nothing is booked yet for:").format(
                deadline=format_moment(details["deadline"], tz)
            )
        ]
        for line in booking_lines(details):
            names = ", ".join(escape(name) for _child_id, name in line["children"])
            service = " + ".join(
                escape(_service_name(runtime, code))
                for code in (line["service"], *line.get("along", ()))
            )
            lines.append(
                _("• {children} — {service}: {period}").format(
                    children=names, service=service, period=_line_period(tuple(line["days"]))
                )
            )
        return "\n".join(lines)
    if reminder.kind == ReminderKind.WINDOW_OPEN:
        return _(
            "📢 Bookings of {service} for the holidays from {first} to {last} are open until {closes}."
        ).format(
            service=escape(runtime.structure.service(details["service"]).name),
            first=format_day(details["first"]),
            last=format_day(details["last"]),
            closes=format_moment(details["closes_at"], tz),
        )
    if reminder.kind == ReminderKind.INVOICE:
        return _(
            "💶 Invoice {number} ({amount}) is due on {due}. Thank you for paying it in time."
        ).format(
            number=escape(details["number"]),
            amount=format_money(details["amount"]),
            due=format_day(details["due_on"]),
        )
    if reminder.kind == ReminderKind.VACCINE:
        return _("💉 Vaccination booster for {child}: {vaccine} on {date}.").format(
            child=escape(details["child"]),
            vaccine=escape(details["vaccine"]),
            date=format_day(details["booster_on"]),
        )
    if reminder.kind == ReminderKind.HEADCOUNT:
        return render_headcount(details["service"], headcounts or [], runtime)
    count = len(details["request_ids"])
    return ngettext(
        "🗂 Good morning: {count} request is waiting for a decision. Send /demandes to see it.",
        "🗂 Good morning: {count} requests are waiting for a decision. Send /demandes to see them.",
        count,
    ).format(count=count)


def render_undelivered(count: int, cutoff: dt.datetime, runtime: Runtime) -> str:
    """Staff: how many reminders of a cutoff could not be delivered in time (never who)."""
    return ngettext(
        "⚠️ {count} reminder could not be delivered before it was too late ({cutoff}): Telegram could not be reached or refused it.",
        "⚠️ {count} reminders could not be delivered before it was too late ({cutoff}): Telegram could not be reached or refused them.",
        count,
    ).format(count=count, cutoff=format_moment(cutoff, runtime.settings.tz))


def booking_lines(details: dict[str, Any]) -> list[dict[str, Any]]:
    """The services of a booking reminder (a row queued before reminders were grouped has one)."""
    if "lines" in details:
        return list(details["lines"])
    return [
        {
            "service": details["service"],
            "along": [],
            "days": details["days"],
            "children": details["children"],
        }
    ]


def _service_name(runtime: Runtime, code: str) -> str:
    try:
        return runtime.structure.service(code).name
    except KeyError:
        return code


def _line_period(days: tuple[dt.date, ...]) -> str:
    if len(days) == 1:
        return _("on {day}").format(day=format_day(days[0]))
    return _("from {first} to {last}").format(first=format_day(days[0]), last=format_day(days[-1]))


def render_headcount(service_code: str, headcounts: list[Headcount], runtime: Runtime) -> str:
    """The final headcount of a service for the days a cutoff closed (the cantine order)."""
    name = escape(runtime.structure.service(service_code).name)
    lines = [
        _("📋 <b>Final headcount — {service}</b> (bookings are now closed)").format(service=name)
    ]
    for headcount in headcounts:
        item = next((s for s in headcount.services if s.code == service_code), None)
        if item is None or service_code in headcount.closed:
            continue
        line = ngettext("{day}: {count} child", "{day}: {count} children", item.count).format(
            day=format_day(headcount.day), count=item.count
        )
        if item.pending:
            line += " " + ngettext("+ {count} pending", "+ {count} pending", item.pending).format(
                count=item.pending
            )
        if item.with_allergies:
            line += " — " + ngettext(
                "⚠️ {count} with an allergy", "⚠️ {count} with an allergy", len(item.with_allergies)
            ).format(count=len(item.with_allergies))
        lines.append(line)
    return "\n".join(lines)


def reminder_keyboard(reminder: Reminder) -> InlineKeyboardMarkup | None:
    """The button that opens the booking of the reminded period, for every child it names
    ("Tous mes enfants" when there are several)."""
    if reminder.kind == ReminderKind.BOOKING:
        lines = booking_lines(reminder.details)
        children = {child_id for line in lines for child_id, _name in line["children"]}
        days = sorted({day for line in lines for day in line["days"]})
        child_id = next(iter(children)) if len(children) == 1 else ALL_CHILDREN
        data = (
            callbacks.build(callbacks.PLANNING_DAY, child_id, day_code(days[0]))
            if len(days) == 1
            else callbacks.build(callbacks.PLANNING_MONTH, child_id, Month.of(days[0]).code())
        )
        return InlineKeyboardMarkup([[InlineKeyboardButton(_("📅 Book now"), callback_data=data)]])
    if reminder.kind == ReminderKind.WINDOW_OPEN:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("📅 Planning"), callback_data=callbacks.build(callbacks.MENU, "planning")
                    )
                ]
            ]
        )
    return None


@parent_handler
async def show_preferences(update: Update, context: Context) -> None:
    """/rappels: each kind of reminder with a button to turn it on or off."""
    choices = await reminder_choices(get_runtime(context).database, user_id_of(update))
    await _show_choices(update, choices)


@parent_handler(answers_itself=True)
async def toggle_preference(update: Update, context: Context) -> None:
    """Turn one kind of reminder on or off, then show the list again."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        await answer_query(update, _("This button is no longer valid."))
        return
    kinds = {kind.value: kind for kind in PARENT_KINDS}
    if parsed.arg(0) not in kinds or parsed.arg(1) not in ("0", "1"):
        await answer_query(update, _("This button is no longer valid."))
        return
    choices = await choose_reminder(
        get_runtime(context).database,
        user_id_of(update),
        kinds[parsed.arg(0)],
        parsed.arg(1) == "1",
    )
    await answer_query(update)
    await _show_choices(update, choices)


@parent_handler(answers_itself=True)
async def toggle_service_preference(update: Update, context: Context) -> None:
    """Turn the booking reminders of one service on or off, then show the list again."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None or not parsed.arg(0).isdigit() or parsed.arg(1) not in ("0", "1"):
        await answer_query(update, _("This button is no longer valid."))
        return
    choices = await choose_service_reminder(
        get_runtime(context).database, user_id_of(update), int(parsed.arg(0)), parsed.arg(1) == "1"
    )
    await answer_query(update)
    await _show_choices(update, choices)


async def _show_choices(update: Update, choices: ReminderChoices) -> None:
    rows = []
    for kind, enabled in choices.kinds.items():
        rows.append(
            [
                InlineKeyboardButton(
                    f"{'🔔' if enabled else '🔕'} {_(KIND_LABELS[kind])}",
                    callback_data=callbacks.build(
                        callbacks.REMINDER_TOGGLE, kind.value, "0" if enabled else "1"
                    ),
                )
            ]
        )
        if (
            kind == ReminderKind.BOOKING and enabled
        ):  # each service's, while booking reminders are on
            rows += [
                [
                    InlineKeyboardButton(
                        f"   {'🔔' if service.enabled else '🔕'} {service.name}",
                        callback_data=callbacks.build(
                            callbacks.REMINDER_SERVICE_TOGGLE,
                            service.service_id,
                            "0" if service.enabled else "1",
                        ),
                    )
                ]
                for service in choices.services
            ]
    rows.append(
        [InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))]
    )
    await show(
        update,
        _(
            "<b>Reminders</b>\n🔔 on, 🔕 off. Tap to change; below the booking deadlines, one line per service."
        ),
        InlineKeyboardMarkup(rows),
    )


def build_handlers() -> list[AnyHandler]:
    """/rappels and its buttons."""
    return [
        CommandHandler("rappels", show_preferences, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(
            toggle_preference, pattern=callbacks.pattern(callbacks.REMINDER_TOGGLE)
        ),
        CallbackQueryHandler(
            toggle_service_preference, pattern=callbacks.pattern(callbacks.REMINDER_SERVICE_TOGGLE)
        ),
    ]
