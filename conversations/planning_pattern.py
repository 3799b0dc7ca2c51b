"""Réserver plusieurs jours: book a weekly pattern until the next holidays in one confirmation,
for one child, several or all of them.

The choice (children, weekdays, services) travels in the buttons as three small bit masks, so
nothing is kept between taps. On confirmation each chosen child gets the chosen services it is
enrolled in; each day is checked against the rules (and, in garde alternée, only the foyer's
weeks are booked), and the answer lists, child by child, what was booked and what was not.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks
from bot.i18n import N_, _, format_day, ngettext
from bot.runtime import Runtime, get_runtime
from bot.services import bookings
from bot.services.bookings import BookingOutcome, PatternDay
from bot.services.use_case import NotAllowed
from conversations.common import Context, escape, parent_handler, show, user_id_of
from conversations.planning_texts import explain_refusal
from storage.models import Child

WEEKDAY_NAMES = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"))
MAX_MASK = 2**20
MAX_LISTED_REFUSALS = 12


@parent_handler
async def on_pattern(update: Update, context: Context) -> None:
    """Show (or update) the choice of children, weekdays and services."""
    children_mask, weekdays, services = _selection(update)
    runtime = get_runtime(context)
    today = runtime.today()
    choice = await bookings.pattern_choice(
        runtime.database, user_id_of(update), _bits(children_mask), structure=runtime.structure, tz=runtime.settings.tz, now=runtime.now()
    )
    children = list(choice.children)
    offered = [index for index, service in enumerate(runtime.structure.services) if service.code in choice.offered]
    chosen_names = ", ".join(escape(c.first_name) for c in _chosen(children, children_mask)) or "—"
    text = "\n".join(
        [
            _("<b>Book several days</b> for {name}").format(name=chosen_names),
            _("Every chosen weekday, from today until {last} (the day before the next holidays).").format(last=format_day(choice.last)),
            _("Choose the days and the services, then confirm."),
        ]
    )
    state = (children_mask, weekdays, services)
    rows = []
    if len(children) > 1:
        rows.append([_toggle(state, 0, index, child.first_name) for index, child in enumerate(children)])
    rows.append([_toggle(state, 1, index, _(name)) for index, name in enumerate(WEEKDAY_NAMES[:3])])
    rows.append([_toggle(state, 1, index, _(name)) for index, name in list(enumerate(WEEKDAY_NAMES))[3:]])
    for index in offered:
        rows.append([_toggle(state, 2, index, runtime.structure.services[index].name)])
    if children_mask and weekdays and services:
        rows.append([InlineKeyboardButton(_("✅ Confirm"), callback_data=callbacks.build(callbacks.PLANNING_PATTERN_CONFIRM, *state))])
    rows.append([_back(today, children, children_mask)])
    await show(update, text, InlineKeyboardMarkup(rows))


@parent_handler
async def on_confirm(update: Update, context: Context) -> None:
    """Book the pattern for each chosen child and list what was booked and what was not."""
    children_mask, weekdays, services = _selection(update)
    runtime = get_runtime(context)
    codes = frozenset(s.code for i, s in enumerate(runtime.structure.services) if services & (1 << i))
    booking = await bookings.book_weekly_pattern(
        runtime.database,
        user_id_of(update),
        _bits(children_mask),
        _bits(weekdays),
        codes,
        structure=runtime.structure,
        tz=runtime.settings.tz,
        now=runtime.now(),
    )
    text = "\n\n".join(f"<b>{escape(child.first_name)}</b>\n{render_summary(results, runtime)}" for child, results in booking.outcomes)
    await show(update, text, InlineKeyboardMarkup([[_back(runtime.today(), list(booking.children), children_mask)]]))


def render_summary(results: list[PatternDay], runtime: Runtime) -> str:
    """Booked / waiting for staff / already booked / not booked, each refusal with its reason."""
    counts = {outcome: sum(1 for r in results if r.result.outcome == outcome) for outcome in BookingOutcome}
    booked, pending, already = counts[BookingOutcome.BOOKED], counts[BookingOutcome.PENDING], counts[BookingOutcome.ALREADY]
    lines = [ngettext("✅ {count} day booked.", "✅ {count} days booked.", booked).format(count=booked)]
    if pending:
        lines.append(
            ngettext("⏳ {count} request sent to the structure.", "⏳ {count} requests sent to the structure.", pending).format(count=pending)
        )
    if already:
        lines.append(ngettext("{count} day was already booked.", "{count} days were already booked.", already).format(count=already))
    refused = [r for r in results if r.result.outcome in (BookingOutcome.REFUSED, BookingOutcome.NOT_ENROLLED)]
    if refused:
        lines.append(_("<b>Not booked:</b>"))
        for item in refused[:MAX_LISTED_REFUSALS]:
            name = runtime.structure.service(item.service_code).name
            lines.append(f"• {format_day(item.day)} — {escape(name)} : {explain_refusal(item.result.decision, runtime)}")
        if len(refused) > MAX_LISTED_REFUSALS:
            lines.append(_("… and {count} more.").format(count=len(refused) - MAX_LISTED_REFUSALS))
    return "\n".join(lines)


def _bits(mask: int) -> frozenset[int]:
    """The positions of the bits set in a mask."""
    return frozenset(bit for bit in range(mask.bit_length()) if mask & (1 << bit))


def _chosen(children: list[Child], mask: int) -> list[Child]:
    return [child for index, child in enumerate(children) if mask & (1 << index)]


def _toggle(state: tuple[int, int, int], which: int, bit: int, label: str) -> InlineKeyboardButton:
    selected = bool(state[which] & (1 << bit))
    new_state = list(state)
    new_state[which] ^= 1 << bit
    return InlineKeyboardButton(
        f"{'☑️' if selected else '⬜'} {label}", callback_data=callbacks.build(callbacks.PLANNING_PATTERN, *new_state)
    )


def _back(today: dt.date, children: list[Child], mask: int) -> InlineKeyboardButton:
    chosen = _chosen(children, mask)
    child_id = chosen[0].id if len(chosen) == 1 else 0
    return InlineKeyboardButton(
        _("📅 Back to the month"), callback_data=callbacks.build(callbacks.PLANNING_MONTH, child_id, f"{today:%Y%m}")
    )


def _selection(update: Update) -> tuple[int, int, int]:
    """The three masks of the tapped button (children, weekdays, services); `NotAllowed` when malformed."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        raise NotAllowed()
    children_mask, weekdays, services = parsed.int_arg(0), parsed.int_arg(1), parsed.int_arg(2)
    if children_mask is None or weekdays is None or services is None or weekdays >= 32 or max(children_mask, services) >= MAX_MASK:
        raise NotAllowed()
    return children_mask, weekdays, services


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The weekly pattern's handlers."""
    return [
        CallbackQueryHandler(on_pattern, pattern=callbacks.pattern(callbacks.PLANNING_PATTERN)),
        CallbackQueryHandler(on_confirm, pattern=callbacks.pattern(callbacks.PLANNING_PATTERN_CONFIRM)),
    ]
