"""Liste des demandes: the family's requests of the last month (or further back), by type.

Pending ones first, then accepted and refused (with the reason and the dates), as in the seed
portal; filters by the seed's types (responsable, conjoint, fiscales, CAF, bancaires, ajout
enfant, autorisations, données sanitaires, inscriptions, réservations, absences).
"""

from __future__ import annotations

import datetime as dt
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks
from bot.domain.model import RequestKind, RequestStatus
from bot.i18n import N_, _, format_short_date, ngettext
from bot.runtime import get_runtime
from bot.services.family_requests import request_list
from bot.services.request_history import HistoryItem, by_status
from conversations.common import TAB_REQUESTS, Context, escape, parent_handler, show, user_id_of
from conversations.forms import State, step

MAX_ITEMS = 25
MAX_TEXT = 3800
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
    "auth": (N_("Authorisations"), frozenset({RequestKind.AUTHORIZATION, RequestKind.AUTHORIZATION_REMOVAL})),
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
        return _(description.title).format_map(_Args(description.title_args))
    except (ValueError, IndexError):
        return _(description.title)


def request_details(item: HistoryItem) -> str:
    """The requested values, "label: old → new" for changes."""
    parts = []
    for change in item.description.changes:
        label = escape(_(change.label))
        if change.current is not None and change.current != change.requested:
            parts.append(f"{label} : {escape(change.current)} → {escape(change.requested)}")
        else:
            parts.append(f"{label} : {escape(change.requested)}")
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
            if request.reason:
                line += " — " + _("reason: {reason}").format(reason=escape(request.reason))
    return line


def render_requests(items: list[HistoryItem], filter_code: str, since: dt.date, tz: dt.tzinfo) -> str:
    """The whole list, grouped by status, within Telegram's length."""
    label = _(FILTERS[filter_code][0])
    lines = [
        _("📋 <b>My requests</b> since {date}").format(date=format_short_date(since)),
        _("Type: {filter}").format(filter=escape(label)),
    ]
    if not items:
        lines += ["", _("No request in this period.")]
        return "\n".join(lines)
    sections = (
        (RequestStatus.PENDING, _("⏳ <b>Pending</b>")),
        (RequestStatus.ACCEPTED, _("✅ <b>Accepted</b>")),
        (RequestStatus.REFUSED, _("❌ <b>Refused</b>")),
        (RequestStatus.CANCELLED, _("<b>Cancelled</b>")),
    )
    shown = 0
    total = len(items)
    for status, heading in sections:
        group = by_status(items, status)
        if not group:
            continue
        lines += ["", heading]
        for item in group:
            line = render_request_line(item, tz)
            if shown >= MAX_ITEMS or len("\n".join(lines)) + len(line) > MAX_TEXT:
                break
            lines.append(line)
            shown += 1
    if shown < total:
        lines += ["", _("… and {count} more: choose a type to see them.").format(count=total - shown)]
    return "\n".join(lines)


def requests_keyboard(filter_code: str, months: int) -> InlineKeyboardMarkup:
    """Filters by type, the period, and home."""
    filter_buttons = [
        InlineKeyboardButton(
            ("• " if code == filter_code else "") + _(label),
            callback_data=callbacks.build(callbacks.REQUEST_LIST, code, months),
        )
        for code, (label, _kinds) in FILTERS.items()
    ]
    rows = [filter_buttons[i : i + 3] for i in range(0, len(filter_buttons), 3)]
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
    rows.append([InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))])
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
    filter_code, months = "all", 1
    if parsed is not None and parsed.action == callbacks.REQUEST_LIST:
        filter_code = parsed.arg(0) if parsed.arg(0) in FILTERS else "all"
        months = parsed.int_arg(1) or 1
        months = months if months in PERIODS else 1
    runtime = get_runtime(context)
    tz = runtime.settings.tz
    since_day = months_back(runtime.today(), months)
    since = dt.datetime.combine(since_day, dt.time(), tzinfo=tz)
    items = await request_list(runtime.database, user_id_of(update), since=since, kinds=FILTERS[filter_code][1])
    await show(update, render_requests(items, filter_code, since_day, tz), requests_keyboard(filter_code, months))
    return None


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The tab and its buttons (steps of the family conversation)."""
    return [
        CallbackQueryHandler(step(show_requests), pattern=rf"^{callbacks.MENU}:{TAB_REQUESTS}$"),
        CallbackQueryHandler(step(show_requests), pattern=callbacks.pattern(callbacks.REQUEST_LIST)),
    ]
