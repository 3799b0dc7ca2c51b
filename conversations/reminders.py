"""Reminder texts (one per kind, in the recipient's language) and /rappels, where parents turn
each kind of reminder on or off."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.domain.planning import Month, day_code
from bot.domain.reminders import PARENT_KINDS, ReminderKind
from bot.i18n import N_, _, format_day, format_money, format_moment, ngettext
from bot.runtime import Runtime, get_runtime
from bot.services.preferences import choose_reminder, reminder_choices
from bot.services.reminders import Reminder
from bot.services.staff_day import Headcount
from conversations.common import Context, answer_query, escape, parent_handler, show, user_id_of

KIND_LABELS = {
    ReminderKind.BOOKING: N_("Before each booking deadline"),
    ReminderKind.WINDOW_OPEN: N_("When holiday bookings open"),
    ReminderKind.INVOICE: N_("Before an invoice's due date"),
    ReminderKind.VACCINE: N_("Before a vaccination booster"),
}


def render_reminder(reminder: Reminder, runtime: Runtime, headcounts: list[Headcount] | None = None) -> str:
    """The text of a reminder, in the current language."""
    details, tz = reminder.details, runtime.settings.tz
    if reminder.kind == ReminderKind.BOOKING:
        names = ", ".join(escape(name) for _child_id, name in details["children"])
        service = escape(runtime.structure.service(details["service"]).name)
        return _("⏰ Reminder for {children} — {service}: bookings for {period} close {deadline}.").format(
            children=names, service=service, period=render_period(details["days"]), deadline=format_moment(details["deadline"], tz)
        )
    if reminder.kind == ReminderKind.WINDOW_OPEN:
        return _("📢 Bookings of {service} for the holidays from {first} to {last} are open until {closes}.").format(
            service=escape(runtime.structure.service(details["service"]).name),
            first=format_day(details["first"]),
            last=format_day(details["last"]),
            closes=format_moment(details["closes_at"], tz),
        )
    if reminder.kind == ReminderKind.INVOICE:
        return _("💶 Invoice {number} ({amount}) is due on {due}. Thank you for paying it in time.").format(
            number=escape(details["number"]), amount=format_money(details["amount"]), due=format_day(details["due_on"])
        )
    if reminder.kind == ReminderKind.VACCINE:
        return _("💉 Vaccination booster for {child}: {vaccine} on {date}.").format(
            child=escape(details["child"]), vaccine=escape(details["vaccine"]), date=format_day(details["booster_on"])
        )
    if reminder.kind == ReminderKind.HEADCOUNT:
        return render_headcount(details["service"], headcounts or [], runtime)
    count = len(details["request_ids"])
    return ngettext(
        "🗂 Good morning: {count} request is waiting for a decision. Send /demandes to see it.",
        "🗂 Good morning: {count} requests are waiting for a decision. Send /demandes to see them.",
        count,
    ).format(count=count)


def render_period(days: tuple[dt.date, ...]) -> str:
    """"the day of …" or "the days from … to …"."""
    if len(days) == 1:
        return format_day(days[0])
    return _("the days from {first} to {last}").format(first=format_day(days[0]), last=format_day(days[-1]))


def render_headcount(service_code: str, headcounts: list[Headcount], runtime: Runtime) -> str:
    """The final headcount of a service for the days a cutoff closed (the cantine order)."""
    name = escape(runtime.structure.service(service_code).name)
    lines = [_("📋 <b>Final headcount — {service}</b> (bookings are now closed)").format(service=name)]
    for headcount in headcounts:
        item = next((s for s in headcount.services if s.code == service_code), None)
        if item is None or service_code in headcount.closed:
            continue
        line = ngettext("{day}: {count} child", "{day}: {count} children", item.count).format(day=format_day(headcount.day), count=item.count)
        if item.with_allergies:
            line += " — " + ngettext("⚠️ {count} with an allergy", "⚠️ {count} with an allergy", len(item.with_allergies)).format(
                count=len(item.with_allergies)
            )
        lines.append(line)
    return "\n".join(lines)


def reminder_keyboard(reminder: Reminder) -> InlineKeyboardMarkup | None:
    """The button that opens the booking for the reminded period."""
    if reminder.kind == ReminderKind.BOOKING:
        child_id = reminder.details["children"][0][0]
        first = reminder.details["days"][0]
        data = (
            callbacks.build(callbacks.PLANNING_DAY, child_id, day_code(first))
            if len(reminder.details["days"]) == 1
            else callbacks.build(callbacks.PLANNING_MONTH, child_id, Month.of(first).code())
        )
        return InlineKeyboardMarkup([[InlineKeyboardButton(_("📅 Book now"), callback_data=data)]])
    if reminder.kind == ReminderKind.WINDOW_OPEN:
        return InlineKeyboardMarkup([[InlineKeyboardButton(_("📅 Planning"), callback_data=callbacks.build(callbacks.MENU, "planning"))]])
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
        get_runtime(context).database, user_id_of(update), kinds[parsed.arg(0)], parsed.arg(1) == "1"
    )
    await answer_query(update)
    await _show_choices(update, choices)


async def _show_choices(update: Update, choices: dict[ReminderKind, bool]) -> None:
    rows = [
        [
            InlineKeyboardButton(
                f"{'🔔' if enabled else '🔕'} {_(KIND_LABELS[kind])}",
                callback_data=callbacks.build(callbacks.REMINDER_TOGGLE, kind.value, "0" if enabled else "1"),
            )
        ]
        for kind, enabled in choices.items()
    ]
    rows.append([InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))])
    await show(update, _("<b>Reminders</b>\n🔔 on, 🔕 off. Tap to change."), InlineKeyboardMarkup(rows))


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """/rappels and its buttons."""
    return [
        CommandHandler("rappels", show_preferences, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(toggle_preference, pattern=callbacks.pattern(callbacks.REMINDER_TOGGLE)),
    ]
