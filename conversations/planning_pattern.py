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
from conversations.common import Context, escape, linked_family, show
from conversations.planning_texts import explain_refusal
from storage.models import Child

WEEKDAY_NAMES = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"))
MAX_MASK = 2**20
MAX_LISTED_REFUSALS = 12


async def on_pattern(update: Update, context: Context) -> None:
    """Show (or update) the choice of children, weekdays and services."""
    selection = await _selection(update, context)
    if selection is None:
        return
    family_id, children_mask, weekdays, services = selection
    runtime = get_runtime(context)
    today = runtime.today()
    async with runtime.database.unit_of_work() as uow:
        planning = await bookings.load_planning(uow, runtime.structure, runtime.settings.tz, today, today + dt.timedelta(days=120))
        last = bookings.next_holidays_start(planning, today)
        children = list(await bookings.children_of_family(uow, family_id))
        offered = await _offered_services(uow, runtime, family_id, _chosen(children, children_mask), today, last)
    chosen_names = ", ".join(escape(c.first_name) for c in _chosen(children, children_mask)) or "—"
    text = "\n".join(
        [
            _("<b>Book several days</b> for {name}").format(name=chosen_names),
            _("Every chosen weekday, from today until {last} (the day before the next holidays).").format(last=format_day(last)),
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


async def on_confirm(update: Update, context: Context) -> None:
    """Book the pattern for each chosen child and list what was booked and what was not."""
    selection = await _selection(update, context)
    if selection is None:
        return
    family_id, children_mask, weekdays, services = selection
    runtime = get_runtime(context)
    user_id = update.effective_user.id if update.effective_user else None
    today = runtime.today()
    codes = {s.code for i, s in enumerate(runtime.structure.services) if services & (1 << i)}
    days = frozenset(i for i in range(5) if weekdays & (1 << i))
    outcomes: list[tuple[Child, list[PatternDay]]] = []
    async with runtime.database.unit_of_work() as uow:
        planning = await bookings.load_planning(uow, runtime.structure, runtime.settings.tz, today, today + dt.timedelta(days=120))
        last = bookings.next_holidays_start(planning, today)
        children = list(await bookings.children_of_family(uow, family_id))
        for child in _chosen(children, children_mask):
            enrolled = [e.service for e in await uow.repos.planning.enrolments(family_id, child.id, today, last)]
            chosen = [s.id for s in enrolled if s.code in codes]
            results = await bookings.book_pattern(uow, planning, family_id, child, chosen, days, today, last, runtime.now(), actor=user_id)
            outcomes.append((child, results))
        await uow.commit()
    text = "\n\n".join(f"<b>{escape(child.first_name)}</b>\n{render_summary(results, runtime)}" for child, results in outcomes)
    await show(update, text, InlineKeyboardMarkup([[_back(today, children, children_mask)]]))


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


async def _offered_services(uow, runtime: Runtime, family_id: int, children: list[Child], first: dt.date, last: dt.date) -> list[int]:  # type: ignore[no-untyped-def]
    """Indexes (in the structure file's order) of services at least one chosen child is enrolled in."""
    codes: set[str] = set()
    for child in children:
        codes |= {e.service.code for e in await uow.repos.planning.enrolments(family_id, child.id, first, last)}
    return [index for index, service in enumerate(runtime.structure.services) if service.code in codes]


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


async def _selection(update: Update, context: Context) -> tuple[int, int, int, int] | None:
    query = update.callback_query
    if query is None:
        return None
    await query.answer()
    parsed = callbacks.parse(query.data)
    family_id = await linked_family(update, context)
    if parsed is None or family_id is None:
        return None
    children_mask, weekdays, services = parsed.int_arg(0), parsed.int_arg(1), parsed.int_arg(2)
    if children_mask is None or weekdays is None or services is None or weekdays >= 32 or max(children_mask, services) >= MAX_MASK:
        await show(update, _("This button is no longer valid."))
        return None
    return family_id, children_mask, weekdays, services


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The weekly pattern's handlers."""
    return [
        CallbackQueryHandler(on_pattern, pattern=callbacks.pattern(callbacks.PLANNING_PATTERN)),
        CallbackQueryHandler(on_confirm, pattern=callbacks.pattern(callbacks.PLANNING_PATTERN_CONFIRM)),
    ]
