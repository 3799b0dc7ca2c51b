"""Réserver plusieurs jours: book a weekly pattern until the next holidays in one confirmation.

The choice (weekdays and services) travels in the buttons as two small bit masks, so nothing is
kept between taps; each day is then checked against the rules and the answer lists what was
booked and what was not, and why.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks
from bot.i18n import N_, _, format_day, ngettext
from bot.runtime import get_runtime
from bot.services import bookings
from bot.services.bookings import BookingOutcome, PatternDay
from conversations.common import Context, escape, linked_family, show
from conversations.planning_texts import explain_refusal

WEEKDAY_NAMES = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"))
MAX_MASK = 2**16
MAX_LISTED_REFUSALS = 15


async def on_pattern(update: Update, context: Context) -> None:
    """Show (or update) the choice of weekdays and services."""
    selection = await _selection(update, context)
    if selection is None:
        return
    family_id, child_id, weekdays, services = selection
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        child = await bookings.owned_child(uow, family_id, child_id, actor=_user(update), now=runtime.now())
        if child is None:
            await uow.commit()
            await show(update, _("This button is no longer valid."))
            return
        today = runtime.today()
        planning = await bookings.load_planning(uow, runtime.structure, runtime.settings.tz, today, today + dt.timedelta(days=120))
        last = bookings.next_holidays_start(planning, today)
        enrolled = [e.service for e in await uow.repos.planning.enrolments(family_id, child.id, today, last)]
    text = "\n".join(
        [
            _("<b>Book several days</b> for {name}").format(name=escape(child.first_name)),
            _("Every chosen weekday, from today until {last} (the day before the next holidays).").format(last=format_day(last)),
            _("Choose the days and the services, then confirm."),
        ]
    )
    rows = [[_toggle(child_id, weekdays, services, day_bit=index, label=_(name)) for index, name in enumerate(WEEKDAY_NAMES[:3])]]
    rows.append([_toggle(child_id, weekdays, services, day_bit=index, label=_(name)) for index, name in list(enumerate(WEEKDAY_NAMES))[3:]])
    for index, service in enumerate(enrolled):
        rows.append([_toggle(child_id, weekdays, services, service_bit=index, label=runtime.structure.service(service.code).name)])
    if weekdays and services:
        rows.append([InlineKeyboardButton(_("✅ Confirm"), callback_data=callbacks.build(callbacks.PLANNING_PATTERN_CONFIRM, child_id, weekdays, services))])
    rows.append([InlineKeyboardButton(_("📅 Back to the month"), callback_data=callbacks.build(callbacks.PLANNING_MONTH, child_id, f"{today:%Y%m}"))])
    await show(update, text, InlineKeyboardMarkup(rows))


async def on_confirm(update: Update, context: Context) -> None:
    """Book the pattern and list what was booked and what was not."""
    selection = await _selection(update, context)
    if selection is None:
        return
    family_id, child_id, weekdays, services = selection
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        child = await bookings.owned_child(uow, family_id, child_id, actor=_user(update), now=runtime.now())
        if child is None:
            await uow.commit()
            await show(update, _("This button is no longer valid."))
            return
        today = runtime.today()
        planning = await bookings.load_planning(uow, runtime.structure, runtime.settings.tz, today, today + dt.timedelta(days=120))
        last = bookings.next_holidays_start(planning, today)
        enrolled = [e.service for e in await uow.repos.planning.enrolments(family_id, child.id, today, last)]
        chosen = [s.id for i, s in enumerate(enrolled) if services & (1 << i)]
        days = frozenset(i for i in range(5) if weekdays & (1 << i))
        results = await bookings.book_pattern(uow, planning, family_id, child, chosen, days, today, last, runtime.now(), actor=_user(update))
        await uow.commit()
    back = InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("📅 Back to the month"), callback_data=callbacks.build(callbacks.PLANNING_MONTH, child_id, f"{today:%Y%m}"))]]
    )
    await show(update, render_summary(results, runtime, explain_refusal), back)


def render_summary(results: list[PatternDay], runtime, explain) -> str:  # type: ignore[no-untyped-def]
    """Booked / waiting for staff / already booked / not booked, each refusal with its reason."""
    counts = {outcome: sum(1 for r in results if r.result.outcome == outcome) for outcome in BookingOutcome}
    lines = [
        ngettext("✅ {count} day booked.", "✅ {count} days booked.", counts[BookingOutcome.BOOKED]).format(count=counts[BookingOutcome.BOOKED]),
    ]
    if counts[BookingOutcome.PENDING]:
        lines.append(
            ngettext("⏳ {count} request sent to the structure.", "⏳ {count} requests sent to the structure.", counts[BookingOutcome.PENDING]).format(
                count=counts[BookingOutcome.PENDING]
            )
        )
    if counts[BookingOutcome.ALREADY]:
        lines.append(
            ngettext("{count} day was already booked.", "{count} days were already booked.", counts[BookingOutcome.ALREADY]).format(
                count=counts[BookingOutcome.ALREADY]
            )
        )
    refused = [r for r in results if r.result.outcome in (BookingOutcome.REFUSED, BookingOutcome.NOT_ENROLLED)]
    if refused:
        lines += ["", _("<b>Not booked:</b>")]
        for item in refused[:MAX_LISTED_REFUSALS]:
            name = runtime.structure.service(item.service_code).name
            lines.append(f"• {format_day(item.day)} — {escape(name)} : {explain(item.result.decision, runtime)}")
        if len(refused) > MAX_LISTED_REFUSALS:
            lines.append(_("… and {count} more.").format(count=len(refused) - MAX_LISTED_REFUSALS))
    return "\n".join(lines)


def _toggle(child_id: int, weekdays: int, services: int, *, label: str, day_bit: int | None = None, service_bit: int | None = None) -> InlineKeyboardButton:
    if day_bit is not None:
        selected, new_days, new_services = bool(weekdays & (1 << day_bit)), weekdays ^ (1 << day_bit), services
    else:
        assert service_bit is not None
        selected, new_days, new_services = bool(services & (1 << service_bit)), weekdays, services ^ (1 << service_bit)
    return InlineKeyboardButton(
        f"{'☑️' if selected else '⬜'} {label}",
        callback_data=callbacks.build(callbacks.PLANNING_PATTERN, child_id, new_days, new_services),
    )


async def _selection(update: Update, context: Context) -> tuple[int, int, int, int] | None:
    query = update.callback_query
    if query is None:
        return None
    await query.answer()
    parsed = callbacks.parse(query.data)
    family_id = await linked_family(update, context)
    if parsed is None or family_id is None:
        return None
    child_id, weekdays, services = parsed.int_arg(0), parsed.int_arg(1), parsed.int_arg(2)
    if child_id is None or weekdays is None or services is None or weekdays >= 32 or services >= MAX_MASK:
        await show(update, _("This button is no longer valid."))
        return None
    return family_id, child_id, weekdays, services


def _user(update: Update) -> int | None:
    return update.effective_user.id if update.effective_user else None


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The weekly pattern's handlers."""
    return [
        CallbackQueryHandler(on_pattern, pattern=callbacks.pattern(callbacks.PLANNING_PATTERN)),
        CallbackQueryHandler(on_confirm, pattern=callbacks.pattern(callbacks.PLANNING_PATTERN_CONFIRM)),
    ]
