"""Liste des demandes: the family's requests of the last month (or further back), by type.

Pending ones first, then accepted and refused (with the reason and the dates), as in the seed
portal; filters by the seed's types (responsable, conjoint, fiscales, CAF, bancaires, ajout
enfant, autorisations, données sanitaires, inscriptions, réservations, absences).
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.domain.model import RequestKind, RequestStatus
from bot.i18n import N_, _, elide, format_short_date, ngettext
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services.family_requests import request_list
from bot.services.request_history import HistoryItem, by_status
from bot.services.requests import render_value
from bot.telegram_text import cut, fit_lines, fits
from conversations.common import TAB_REQUESTS, Context, escape, parent_handler, show, user_id_of
from conversations.forms import State, step

MAX_ITEMS = 10
MAX_TEXT = 3800
MAX_DETAILS = 1200
PERIODS = (1, 3, 12)
# The seed's filters: code -> (label, kinds); None is every kind.
FILTERS: dict[str, tuple[str, frozenset[RequestKind] | None]] = {
    "all": (N_("All"), None),
    "resp": (N_("Responsable"), frozenset({RequestKind.RESPONSABLE})),
    "conj": (N_("Spouse"), frozenset({RequestKind.CONJOINT})),
    "fisc": (N_("Tax"), frozenset({RequestKind.FISCAL})),
    "caf": (N_("CAF"), frozenset({RequestKind.CAF})),
    "bank": (N_("Bank"), frozenset({RequestKind.BANK})),
    "addch": (N_("New child"), frozenset({RequestKind.ADD_CHILD})),
    "child": (N_("Child's details"), frozenset({RequestKind.CHILD_DATA})),
    "auth": (
        N_("Authorisations"),
        frozenset({RequestKind.AUTHORIZATION, RequestKind.AUTHORIZATION_REMOVAL}),
    ),
    "health": (N_("Health data"), frozenset({RequestKind.HEALTH})),
    "enrol": (N_("Enrolments"), frozenset({RequestKind.ENROLMENT})),
    "book": (N_("Bookings"), frozenset({RequestKind.BOOKING})),
    "abs": (N_("Absences"), frozenset({RequestKind.ABSENCE})),
}


class _Args(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def request_title(item: HistoryItem) -> str:
    """The request's title in the user's language ("Change of the CAF information")."""
    description = item.description
    try:
        return elide(_(description.title).format_map(_Args(description.title_args)))
    except (ValueError, IndexError):
        return _(description.title)


def request_details(item: HistoryItem, limit: int = MAX_DETAILS) -> str:
    """The requested values, "label: old → new" for changes (within `limit` units, "…" past it)."""
    parts: list[str] = []
    for change in item.description.changes:
        label = escape(_(change.label))
        requested = render_value(change.requested)
        if change.current is not None and change.current != change.requested:
            parts.append(
                _("{label}: {current} → {requested}").format(
                    label=label,
                    current=escape(render_value(change.current)),
                    requested=escape(requested),
                )
            )
        else:
            parts.append(_("{label}: {requested}").format(label=label, requested=escape(requested)))
        if not fits("; ".join(parts), limit):
            return "; ".join([*parts[:-1], "…"]) if len(parts) > 1 else cut(parts[0], limit)
    return "; ".join(parts)


def render_request_line(item: HistoryItem, tz: dt.tzinfo, *, with_decision: bool = True) -> str:
    """One request as a bullet: date, title, values, and the decision with its date and reason."""
    request = item.request
    asked = format_short_date(request.created_at.astimezone(tz).date())
    line = _("• {date} — <b>{title}</b>").format(date=asked, title=escape(request_title(item)))
    details = request_details(item)
    if details:
        line += f"\n   {details}"
    if with_decision and request.decided_at is not None:
        decided = format_short_date(request.decided_at.astimezone(tz).date())
        if request.status == RequestStatus.ACCEPTED:
            line += "\n   " + _("accepted on {date}").format(date=decided)
        elif request.status == RequestStatus.REFUSED:
            line += "\n   " + _("refused on {date}").format(date=decided)
            if request.refusal_reason:
                line += " — " + _("reason: {reason}").format(reason=escape(request.refusal_reason))
    return line


def render_requests(
    items: list[HistoryItem], filter_code: str, since: dt.date, tz: dt.tzinfo, start: int = 0
) -> tuple[str, int | None]:
    """One page of the list, grouped by status, within Telegram's length, from the `start`-th
    request; with the index of the next page's first request (None on the last page)."""
    label = _(FILTERS[filter_code][0])
    lines = [
        _("📋 <b>My requests</b> since {date}").format(date=format_short_date(since)),
        _("Type: {filter}").format(filter=escape(label)),
    ]
    if not items:
        lines += ["", _("No request in this period.")]
        return "\n".join(lines), None
    sections = (
        (RequestStatus.PENDING, _("⏳ <b>Pending</b>")),
        (RequestStatus.ACCEPTED, _("✅ <b>Accepted</b>")),
        (RequestStatus.REFUSED, _("❌ <b>Refused</b>")),
        (RequestStatus.CANCELLED, _("<b>Cancelled</b>")),
    )
    ordered = [
        (status, heading, item) for status, heading in sections for item in by_status(items, status)
    ]
    start = min(max(start, 0), len(ordered) - 1)
    shown = 0
    heading_shown = None
    for status, heading, item in ordered[start:]:
        block = ([] if heading_shown == status else ["", heading]) + [render_request_line(item, tz)]
        if shown and (shown >= MAX_ITEMS or not fits("\n".join([*lines, *block]), MAX_TEXT)):
            break
        lines += block
        heading_shown = status
        shown += 1
    following = start + shown
    if following < len(ordered):
        lines += ["", _("… {count} more on the next page.").format(count=len(ordered) - following)]
    text = "\n".join(lines)
    return (text if fits(text) else fit_lines(text, MAX_TEXT)), (
        following if following < len(ordered) else None
    )


def requests_keyboard(
    filter_code: str, months: int, start: int = 0, following: int | None = None
) -> InlineKeyboardMarkup:
    """Pages, filters by type, the period, and home."""
    pages = []
    if start > 0:
        previous = max(0, start - MAX_ITEMS)
        pages.append(
            InlineKeyboardButton(
                _("◀ Previous"),
                callback_data=callbacks.build(
                    callbacks.REQUEST_PAGE, filter_code, months, previous
                ),
            )
        )
    if following is not None:
        pages.append(
            InlineKeyboardButton(
                _("Next ▶"),
                callback_data=callbacks.build(
                    callbacks.REQUEST_PAGE, filter_code, months, following
                ),
            )
        )
    filter_buttons = [
        InlineKeyboardButton(
            ("• " if code == filter_code else "") + _(label),
            callback_data=callbacks.build(callbacks.REQUEST_LIST, code, months),
        )
        for code, (label, _kinds) in FILTERS.items()
    ]
    rows = ([pages] if pages else []) + [
        filter_buttons[i : i + 3] for i in range(0, len(filter_buttons), 3)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                ("• " if period == months else "")
                + ngettext("{count} month", "{count} months", period).format(count=period),
                callback_data=callbacks.build(callbacks.REQUEST_LIST, filter_code, period),
            )
            for period in PERIODS
        ]
    )
    rows.append(
        [InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))]
    )
    return InlineKeyboardMarkup(rows)


def months_back(today: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (clamped to the month's length)."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in (today.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return dt.date(year, month, 28)


@parent_handler
async def show_requests(update: Update, context: Context) -> State | None:
    """The menu tab and the filter/period buttons."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    filter_code, months, start = "all", 1, 0
    if parsed is not None and parsed.action in (callbacks.REQUEST_LIST, callbacks.REQUEST_PAGE):
        filter_code = parsed.arg(0) if parsed.arg(0) in FILTERS else "all"
        months = parsed.int_arg(1) or 1
        months = months if months in PERIODS else 1
        start = (parsed.int_arg(2) or 0) if parsed.action == callbacks.REQUEST_PAGE else 0
    runtime = get_runtime(context)
    tz = runtime.settings.tz
    since_day = months_back(runtime.today(), months)
    since = dt.datetime.combine(since_day, dt.time(), tzinfo=tz)
    items = await request_list(
        runtime.database, user_id_of(update), since=since, kinds=FILTERS[filter_code][1]
    )
    text, following = render_requests(items, filter_code, since_day, tz, start)
    await show(update, text, requests_keyboard(filter_code, months, start, following))
    return None


def build_handlers() -> list[AnyHandler]:
    """The tab and its buttons (steps of the family conversation)."""
    return [
        CallbackQueryHandler(step(show_requests), pattern=rf"^{callbacks.MENU}:{TAB_REQUESTS}$"),
        CallbackQueryHandler(
            step(show_requests), pattern=callbacks.pattern(callbacks.REQUEST_LIST)
        ),
        CallbackQueryHandler(
            step(show_requests), pattern=callbacks.pattern(callbacks.REQUEST_PAGE)
        ),
    ]
