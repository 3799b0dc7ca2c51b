"""Réserver plusieurs jours: book a weekly pattern until the next holidays in one confirmation,
for one child, several or all of them.

The choice travels in the buttons, so nothing is kept between taps: the children and the
services by their ids (base 36, "-" between them: a sibling added or the structure file
reordered between showing and tapping cannot change what a button means), the weekdays as a
small bit mask. On confirmation each chosen child gets the chosen services it is
enrolled in; each day is checked against the rules (and, in garde alternée, only the foyer's
weeks are booked), and the answer lists, child by child, what was booked and what was not.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.i18n import N_, _, format_day, ngettext
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services import bookings
from bot.services.bookings import BookingOutcome, PatternDay
from bot.services.use_case import NotAllowed
from conversations.common import Context, escape, parent_handler, show, user_id_of
from conversations.planning_texts import explain_refusal
from storage.models import Child

WEEKDAY_NAMES = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"))
MAX_LISTED_REFUSALS = 12
NONE = "0"  # an empty list of ids (ids start at 1)


@parent_handler
async def on_pattern(update: Update, context: Context) -> None:
    """Show (or update) the choice of children, weekdays and services."""
    child_ids, weekdays, service_ids = _selection(update)
    runtime = get_runtime(context)
    today = runtime.today()
    choice = await bookings.pattern_choice(
        runtime.database,
        user_id_of(update),
        child_ids,
        structure=runtime.structure,
        tz=runtime.settings.tz,
        now=runtime.now(),
    )
    children = list(choice.children)
    offered = [
        (choice.service_ids[s.code], s.name)
        for s in runtime.structure.services
        if s.code in choice.service_ids
    ]
    service_ids = service_ids & {service_id for service_id, _name in offered}
    chosen_names = ", ".join(escape(c.first_name) for c in _chosen(children, child_ids)) or "—"
    text = "\n".join(
        [
            _("<b>Book several days</b> for {name}").format(name=chosen_names),
            _(
                "Every chosen weekday, from today until {last} (the day before the next holidays)."
            ).format(last=format_day(choice.last)),
            _("Choose the days and the services, then confirm."),
        ]
    )
    if choice.holidays is not None:
        text += "\n" + _(
            "Holiday services are booked during the next holidays, from {first} to {last}."
        ).format(first=format_day(choice.holidays[0]), last=format_day(choice.holidays[1]))
    state = (child_ids, weekdays, service_ids)
    rows = []
    if len(children) > 1:
        rows.append([_toggle_child(state, child) for child in children])
    rows.append(
        [_toggle_weekday(state, index, _(name)) for index, name in enumerate(WEEKDAY_NAMES[:3])]
    )
    rows.append(
        [
            _toggle_weekday(state, index, _(name))
            for index, name in list(enumerate(WEEKDAY_NAMES))[3:]
        ]
    )
    for service_id, name in offered:
        rows.append([_toggle_service(state, service_id, name)])
    if child_ids and weekdays and service_ids:
        rows.append(
            [
                InlineKeyboardButton(
                    _("✅ Confirm"), callback_data=pattern_data(*state, confirm=True)
                )
            ]
        )
    rows.append([_back(today, children, child_ids)])
    await show(update, text, InlineKeyboardMarkup(rows))


@parent_handler
async def on_confirm(update: Update, context: Context) -> None:
    """Book the pattern for each chosen child and list what was booked and what was not."""
    child_ids, weekdays, service_ids = _selection(update)
    runtime = get_runtime(context)
    booking = await bookings.book_weekly_pattern(
        runtime.database,
        user_id_of(update),
        child_ids,
        _bits(weekdays),
        service_ids,
        structure=runtime.structure,
        tz=runtime.settings.tz,
        now=runtime.now(),
    )
    text = "\n\n".join(
        f"<b>{escape(child.first_name)}</b>\n{render_summary(results, runtime)}"
        for child, results in booking.outcomes
    )
    await show(
        update,
        text,
        InlineKeyboardMarkup([[_back(runtime.today(), list(booking.children), child_ids)]]),
    )


def render_summary(results: list[PatternDay], runtime: Runtime) -> str:
    """Booked / waiting for staff / already booked / not booked, each refusal with its reason.

    Days are counted, not bookings: a day with the garderie du soir and its goûter is one day.
    """
    booked_days = {r.day for r in results if r.result.outcome == BookingOutcome.BOOKED}
    pending_days = {
        r.day for r in results if r.result.outcome == BookingOutcome.PENDING
    } - booked_days
    already_days = (
        {r.day for r in results if r.result.outcome == BookingOutcome.ALREADY}
        - booked_days
        - pending_days
    )
    booked, pending, already = len(booked_days), len(pending_days), len(already_days)
    lines = [
        ngettext("✅ {count} day booked.", "✅ {count} days booked.", booked).format(count=booked)
    ]
    if pending:
        lines.append(
            ngettext(
                "⏳ {count} request sent to the structure.",
                "⏳ {count} requests sent to the structure.",
                pending,
            ).format(count=pending)
        )
    if already:
        lines.append(
            ngettext(
                "{count} day was already booked.", "{count} days were already booked.", already
            ).format(count=already)
        )
    refused = [
        r
        for r in results
        if r.result.outcome in (BookingOutcome.REFUSED, BookingOutcome.NOT_ENROLLED)
    ]
    if refused:
        lines.append(_("<b>Not booked:</b>"))
        for item in refused[:MAX_LISTED_REFUSALS]:
            name = runtime.structure.service(item.service_code).name
            lines.append(
                f"• {format_day(item.day)} — {escape(name)} : {explain_refusal(item.result.decision, runtime)}"
            )
        if len(refused) > MAX_LISTED_REFUSALS:
            lines.append(_("… and {count} more.").format(count=len(refused) - MAX_LISTED_REFUSALS))
    return "\n".join(lines)


def _bits(mask: int) -> frozenset[int]:
    """The positions of the bits set in a mask."""
    return frozenset(bit for bit in range(mask.bit_length()) if mask & (1 << bit))


def _chosen(children: list[Child], child_ids: frozenset[int]) -> list[Child]:
    return [child for child in children if child.id in child_ids]


Selection = tuple[frozenset[int], int, frozenset[int]]
"""The chosen children's ids, the weekdays' bit mask and the chosen services' ids."""


def ids_token(ids: frozenset[int]) -> str:
    """Ids in one callback part: base 36, joined by "-" ("0" when there is none)."""
    return "-".join(_base36(i) for i in sorted(ids)) or NONE


def parse_ids(token: str) -> frozenset[int] | None:
    """The ids of an `ids_token`; None when malformed."""
    if token == NONE:
        return frozenset()
    try:
        ids = [int(part, 36) for part in token.split("-")]
    except ValueError:
        return None
    return frozenset(ids) if all(i > 0 for i in ids) else None


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if not number:
            return text


def pattern_data(
    child_ids: frozenset[int], weekdays: int, service_ids: frozenset[int], *, confirm: bool = False
) -> str:
    """The callback data of a "book several days" screen (or of its confirmation)."""
    action = callbacks.PLANNING_PATTERN_CONFIRM if confirm else callbacks.PLANNING_PATTERN
    return callbacks.build(action, ids_token(child_ids), weekdays, ids_token(service_ids))


def _mark(selected: bool, label: str) -> str:
    return f"{'☑️' if selected else '⬜'} {label}"


def _toggle_child(state: Selection, child: Child) -> InlineKeyboardButton:
    child_ids, weekdays, service_ids = state
    return InlineKeyboardButton(
        _mark(child.id in child_ids, child.first_name),
        callback_data=pattern_data(child_ids ^ {child.id}, weekdays, service_ids),
    )


def _toggle_weekday(state: Selection, bit: int, label: str) -> InlineKeyboardButton:
    child_ids, weekdays, service_ids = state
    return InlineKeyboardButton(
        _mark(bool(weekdays & (1 << bit)), label),
        callback_data=pattern_data(child_ids, weekdays ^ (1 << bit), service_ids),
    )


def _toggle_service(state: Selection, service_id: int, label: str) -> InlineKeyboardButton:
    child_ids, weekdays, service_ids = state
    return InlineKeyboardButton(
        _mark(service_id in service_ids, label),
        callback_data=pattern_data(child_ids, weekdays, service_ids ^ {service_id}),
    )


def _back(today: dt.date, children: list[Child], child_ids: frozenset[int]) -> InlineKeyboardButton:
    chosen = _chosen(children, child_ids)
    child_id = chosen[0].id if len(chosen) == 1 else 0
    return InlineKeyboardButton(
        _("📅 Back to the month"),
        callback_data=callbacks.build(callbacks.PLANNING_MONTH, child_id, f"{today:%Y%m}"),
    )


def _selection(update: Update) -> Selection:
    """The tapped button's choice (children's ids, weekdays, services' ids); `NotAllowed` when malformed."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        raise NotAllowed()
    child_ids, weekdays, service_ids = (
        parse_ids(parsed.arg(0)),
        parsed.int_arg(1),
        parse_ids(parsed.arg(2)),
    )
    if child_ids is None or weekdays is None or service_ids is None or weekdays >= 32:
        raise NotAllowed()
    return child_ids, weekdays, service_ids


def build_handlers() -> list[AnyHandler]:
    """The weekly pattern's handlers."""
    return [
        CallbackQueryHandler(on_pattern, pattern=callbacks.pattern(callbacks.PLANNING_PATTERN)),
        CallbackQueryHandler(
            on_confirm, pattern=callbacks.pattern(callbacks.PLANNING_PATTERN_CONFIRM)
        ),
    ]
