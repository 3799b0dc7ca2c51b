"""Attendance from a phone: /pointage [service] [date] and /contrat.

`/pointage` (staff, in the admin group or a private chat) posts the session's list of booked
children as buttons, alphabetical, two a row, allergies (⚠️) and PAI (🩺) flagged. A tap
ticks ✅ or unticks; "Tous présents" ticks everyone booked; "➕ Ajouter" lists the children
enrolled but not booked (the "hors contrat" case); "🚪 Départs" turns the buttons into
departure taps (the time is recorded, for tariffs per quarter-hour); "🔒 Clôturer" closes the
session (after a confirmation): the booked children not ticked are absent, and their families
told. Lists longer than a page (`PAGE_SIZE` children, within Telegram's 100 buttons) page.

The tapped list is edited at once from what the use case returns; every other list of the
same session is edited through the outbox (`attendance.list_edit`), so two staff ticking the
same list see each other's ticks. The list itself is posted through the outbox
(`attendance.list`) so that its message is remembered once sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.domain.attendance import parse_contract_days
from bot.domain.staff_input import match_service, parse_day_words, parse_family_number
from bot.i18n import _, by_sex, format_day, ngettext, pgettext
from bot.outgoing import Outgoing, Params, template
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services import attendance
from bot.services.attendance import (
    Candidate,
    ContractOutcome,
    Mode,
    OpenOutcome,
    PointageRow,
    PointageView,
)
from bot.services.use_case import NotAllowed
from conversations.common import answer_query, escape, user_id_of
from conversations.staff.common import Context, command_text, staff_action
from conversations.usages import usage
from storage.db import UnitOfWork

PAGE_SIZE = 80
"""Children per page: with the controls, a list stays well within Telegram's 100 buttons."""
WEEKDAY_NAMES = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")


# --- rendering -------------------------------------------------------------------------------


def list_text(view: PointageView, tz: dt.tzinfo, mode: Mode = Mode.TICK) -> str:
    """The list's header: service, day, how many are ticked, the closed mark."""
    lines = [
        _("📋 Attendance — {service} — {day}").format(
            service=escape(view.service_name), day=format_day(view.day)
        ),
        _("{present} present out of {total}").format(present=view.present, total=len(view.rows)),
    ]
    flagged = [row for row in view.rows if row.allergy or row.pai]
    if flagged:
        lines.append(_("⚠️ allergy · 🩺 PAI (see /effectifs for the details)"))
    extra = [row for row in view.rows if row.hors_contrat]
    if extra:
        lines.append(
            ngettext(
                "➕ {count} child without a booking (hors contrat)",
                "➕ {count} children without a booking (hors contrat)",
                len(extra),
            ).format(count=len(extra))
        )
    if mode is Mode.DEPARTURE:
        lines.append(_("🚪 Tap a child as they leave: the time is recorded."))
    if view.closed:
        lines.append(_("🔒 Session closed: a tap still corrects a child's day."))
    return "\n".join(lines)


def _row_label(row: PointageRow, tz: dt.tzinfo, mode: Mode) -> str:
    mark = "✅" if row.present else "⬜"
    name = f"{row.first_name} {row.last_name}"
    flags = ("⚠️" if row.allergy else "") + ("🩺" if row.pai else "")
    label = f"{mark} {name}" + (f" {flags}" if flags else "")
    if row.hors_contrat:
        label += " ➕"
    if row.left_at is not None:
        label += " 🚪" + row.left_at.astimezone(tz).strftime("%H:%M")
    elif mode is Mode.DEPARTURE and row.present:
        label = "🚪 " + label
    return label[:64]


def _pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


def list_keyboard(view: PointageView, tz: dt.tzinfo, page: int, mode: Mode) -> InlineKeyboardMarkup:
    """The children of one page as buttons, then paging and the list's actions."""
    page = min(max(page, 0), _pages(len(view.rows)) - 1)
    shown = view.rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    sid = view.session_id
    buttons = [
        InlineKeyboardButton(
            _row_label(row, tz, mode),
            callback_data=callbacks.build(callbacks.ATTENDANCE_TAP, sid, row.child_id, page, mode),
        )
        for row in shown
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.extend(_paging(sid, page, _pages(len(view.rows)), mode))
    other = Mode.TICK if mode is Mode.DEPARTURE else Mode.DEPARTURE
    rows.append(
        [
            InlineKeyboardButton(
                _("✅ All present"),
                callback_data=callbacks.build(callbacks.ATTENDANCE_ALL, sid, page),
            ),
            InlineKeyboardButton(
                _("➕ Add a child"),
                callback_data=callbacks.build(callbacks.ATTENDANCE_ADD, sid, 0),
            ),
        ]
    )
    last = [
        InlineKeyboardButton(
            _("🚪 Departures") if other is Mode.DEPARTURE else _("✅ Attendance"),
            callback_data=callbacks.build(callbacks.ATTENDANCE_PAGE, sid, page, other),
        )
    ]
    if not view.closed:
        last.append(
            InlineKeyboardButton(
                _("🔒 Close the session"),
                callback_data=callbacks.build(callbacks.ATTENDANCE_CLOSE, sid, "ask"),
            )
        )
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def _paging(sid: int, page: int, pages: int, mode: Mode) -> list[list[InlineKeyboardButton]]:
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(
                "◀️", callback_data=callbacks.build(callbacks.ATTENDANCE_PAGE, sid, page - 1, mode)
            )
        )
    row.append(
        InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=callbacks.build(callbacks.NOOP))
    )
    if page < pages - 1:
        row.append(
            InlineKeyboardButton(
                "▶️", callback_data=callbacks.build(callbacks.ATTENDANCE_PAGE, sid, page + 1, mode)
            )
        )
    return [row]


def candidates_keyboard(
    sid: int, candidates: Sequence[Candidate], page: int
) -> InlineKeyboardMarkup:
    """The enrolled children not on the list, to add one who came anyway."""
    pages = max(1, -(-len(candidates) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = candidates[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    buttons = [
        InlineKeyboardButton(
            f"➕ {c.first_name} {c.last_name}"[:64],
            callback_data=callbacks.build(callbacks.ATTENDANCE_ADD_CHILD, sid, c.child_id),
        )
        for c in shown
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                "◀️", callback_data=callbacks.build(callbacks.ATTENDANCE_ADD, sid, page - 1)
            )
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton(
                "▶️", callback_data=callbacks.build(callbacks.ATTENDANCE_ADD, sid, page + 1)
            )
        )
    if nav:
        rows.append(nav)
    rows.append(
        [
            InlineKeyboardButton(
                _("↩️ Back to the list"),
                callback_data=callbacks.build(callbacks.ATTENDANCE_PAGE, sid, 0, Mode.TICK),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def _outgoing(
    view: PointageView, runtime: Runtime, page: int, mode: Mode, edit: int | None = None
) -> Outgoing:
    tz = runtime.settings.tz
    return Outgoing(
        list_text(view, tz, mode), list_keyboard(view, tz, page, mode), edit_message_id=edit
    )


def _mode(value: object) -> Mode:
    return Mode.DEPARTURE if value == Mode.DEPARTURE.value else Mode.TICK


async def _remember(uow: UnitOfWork, params: Params, message_ids: Sequence[int]) -> None:
    if message_ids:
        await attendance.remember_list_message(
            uow,
            int(params["session_id"]),
            int(params["chat_id"]),
            message_ids[-1],
            int(params.get("page", 0)),
            str(params.get("mode", Mode.TICK.value)),
        )


@template(attendance.TEMPLATE_LIST, on_sent=_remember)
async def _new_list(runtime: Runtime, params: Params) -> Outgoing | None:
    """A session's list, posted where /pointage was typed."""
    view = await attendance.pointage_view(
        runtime.database, runtime.structure, int(params["session_id"])
    )
    if view is None:
        return None
    return _outgoing(view, runtime, int(params.get("page", 0)), _mode(params.get("mode")))


@template(attendance.TEMPLATE_LIST_EDIT)
async def _edited_list(runtime: Runtime, params: Params) -> Outgoing | None:
    """Another staff member's list, edited to the session's state."""
    view = await attendance.pointage_view(
        runtime.database, runtime.structure, int(params["session_id"])
    )
    if view is None:
        return None
    return _outgoing(
        view,
        runtime,
        int(params.get("page", 0)),
        _mode(params.get("mode")),
        edit=int(params["message_id"]),
    )


def no_show_text(child: str, sex: str, service: str, day: dt.date) -> str:
    """The family's notice of a no-show."""
    text = by_sex(
        sex,
        female=pgettext(
            "female", "🔔 {child} was expected at {service} on {day} and did not come."
        ),
        male=pgettext("male", "🔔 {child} was expected at {service} on {day} and did not come."),
        unknown=_("🔔 {child} was expected at {service} on {day} and did not come."),
    )
    return text.format(child=escape(child), service=escape(service), day=format_day(day))


@template(attendance.TEMPLATE_NO_SHOW)
async def _no_show(runtime: Runtime, params: Params) -> Outgoing | None:
    """A booked child did not come: told to the family when staff close the session."""
    day = dt.date.fromisoformat(str(params["day"]))
    return Outgoing(
        no_show_text(str(params["child"]), str(params.get("sex", "")), str(params["service"]), day)
    )


# --- /pointage -------------------------------------------------------------------------------


@staff_action("staff.attendance")
async def pointage(update: Update, context: Context) -> None:
    """/pointage [service] [date]: the session's list (default: the service running now, today)."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    runtime = get_runtime(context)
    words = command_text(update).split()
    services = [(s.code, s.name) for s in runtime.structure.services]
    service_code = match_service(words[0], services) if words else None
    rest = words[1:] if service_code is not None else words
    day = runtime.today()
    if rest:
        parsed = parse_day_words(" ".join(rest), runtime.today())
        if parsed is None:
            await message.reply_text(usage("pointage"))
            return
        day = parsed
    opened = await attendance.open_pointage(
        runtime.database,
        runtime.structure,
        service_code=service_code,
        day=day,
        chat_id=chat.id,
        staff_id=user_id_of(update) or 0,
        now=runtime.now(),
        tz=runtime.settings.tz,
    )
    if opened.outcome is OpenOutcome.NOT_RUNNING:
        await message.reply_text(
            _("{service} does not run on {day}.").format(
                service=escape(opened.service_name or ""), day=format_day(day)
            )
        )
    elif opened.outcome is not OpenOutcome.OPENED:
        await message.reply_text(_("No service runs on {day}.").format(day=format_day(day)))
    # The list itself is posted through the outbox, and remembered once sent.


async def _show(
    update: Update, runtime: Runtime, view: PointageView, page: int, mode: Mode
) -> None:
    query = update.callback_query
    if query is None:
        return
    tz = runtime.settings.tz
    try:
        await query.edit_message_text(
            list_text(view, tz, mode), reply_markup=list_keyboard(view, tz, page, mode)
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def _shown_in(update: Update, page: int) -> tuple[int, int, int] | None:
    query = update.callback_query
    if query is None or query.message is None:
        return None
    return (query.message.chat.id, query.message.message_id, page)


@staff_action("staff.attendance")
async def tap(update: Update, context: Context) -> None:
    """A child's button: tick/untick, or record the departure."""
    runtime = get_runtime(context)
    data = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if data is None:
        await answer_query(update)
        return
    page = data.int_arg(2) or 0
    mode = _mode(data.arg(3))
    sid, child = data.int_arg(0), data.int_arg(1)
    try:
        if sid is None or child is None:
            raise NotAllowed()
        view = await attendance.mark_child(
            runtime.database,
            runtime.structure,
            sid,
            child,
            mode=mode,
            staff_id=user_id_of(update) or 0,
            now=runtime.now(),
            shown_in=_shown_in(update, page),
        )
    except NotAllowed:
        await answer_query(update, _("This list has changed: open it again with /pointage."))
        return
    await answer_query(update)
    await _show(update, runtime, view, page, mode)


@staff_action("staff.attendance")
async def page_or_mode(update: Update, context: Context) -> None:
    """Another page of the list, or the departures (or ticks) mode."""
    runtime = get_runtime(context)
    data = callbacks.parse(update.callback_query.data if update.callback_query else None)
    sid = data.int_arg(0) if data else None
    view = (
        await attendance.pointage_view(runtime.database, runtime.structure, sid)
        if sid is not None
        else None
    )
    await answer_query(update)
    if data is None or view is None:
        return
    await _show(update, runtime, view, data.int_arg(1) or 0, _mode(data.arg(2)))


@staff_action("staff.attendance")
async def all_present(update: Update, context: Context) -> None:
    """ "Tous présents"."""
    runtime = get_runtime(context)
    data = callbacks.parse(update.callback_query.data if update.callback_query else None)
    sid = data.int_arg(0) if data else None
    page = (data.int_arg(1) or 0) if data else 0
    try:
        if sid is None:
            raise NotAllowed()
        view = await attendance.mark_all_present(
            runtime.database,
            runtime.structure,
            sid,
            staff_id=user_id_of(update) or 0,
            now=runtime.now(),
            shown_in=_shown_in(update, page),
        )
    except NotAllowed:
        await answer_query(update, _("This list has changed: open it again with /pointage."))
        return
    await answer_query(update)
    await _show(update, runtime, view, page, Mode.TICK)


@staff_action("staff.attendance")
async def add_picker(update: Update, context: Context) -> None:
    """The enrolled children not on the list."""
    runtime = get_runtime(context)
    query = update.callback_query
    data = callbacks.parse(query.data if query else None)
    sid = data.int_arg(0) if data else None
    try:
        if sid is None or query is None:
            raise NotAllowed()
        candidates = await attendance.add_candidates(
            runtime.database, sid, staff_id=user_id_of(update) or 0
        )
    except NotAllowed:
        await answer_query(update, _("This list has changed: open it again with /pointage."))
        return
    await answer_query(update)
    text = (
        _("➕ Who came without a booking? (children enrolled in the service)")
        if candidates
        else _("Every child enrolled in the service is already on the list.")
    )
    try:
        await query.edit_message_text(
            text,
            reply_markup=candidates_keyboard(
                sid, candidates, (data.int_arg(1) or 0) if data else 0
            ),
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


@staff_action("staff.attendance")
async def add_one(update: Update, context: Context) -> None:
    """A child added to the list, ticked present (hors contrat)."""
    runtime = get_runtime(context)
    data = callbacks.parse(update.callback_query.data if update.callback_query else None)
    sid = data.int_arg(0) if data else None
    child = data.int_arg(1) if data else None
    try:
        if sid is None or child is None:
            raise NotAllowed()
        view = await attendance.add_child(
            runtime.database,
            runtime.structure,
            sid,
            child,
            staff_id=user_id_of(update) or 0,
            now=runtime.now(),
            shown_in=_shown_in(update, 0),
        )
    except NotAllowed:
        await answer_query(update, _("This list has changed: open it again with /pointage."))
        return
    await answer_query(update)
    await _show(update, runtime, view, 0, Mode.TICK)


@staff_action("staff.attendance")
async def close(update: Update, context: Context) -> None:
    """🔒: ask, then close the session."""
    runtime = get_runtime(context)
    query = update.callback_query
    data = callbacks.parse(query.data if query else None)
    sid = data.int_arg(0) if data else None
    if data is None or sid is None or query is None:
        await answer_query(update)
        return
    if data.arg(1) != "yes":
        await answer_query(update)
        with contextlib.suppress(BadRequest):  # tapped twice: "message is not modified"
            await query.edit_message_reply_markup(
                InlineKeyboardMarkup(
                    [
                        [
                            InlineKeyboardButton(
                                _("🔒 Yes, close: children not ticked are absent"),
                                callback_data=callbacks.build(
                                    callbacks.ATTENDANCE_CLOSE, sid, "yes"
                                ),
                            )
                        ],
                        [
                            InlineKeyboardButton(
                                _("↩️ Back to the list"),
                                callback_data=callbacks.build(
                                    callbacks.ATTENDANCE_PAGE, sid, 0, Mode.TICK
                                ),
                            )
                        ],
                    ]
                )
            )
        return
    try:
        closed = await attendance.close_session(
            runtime.database,
            runtime.structure,
            sid,
            staff_id=user_id_of(update) or 0,
            now=runtime.now(),
            shown_in=_shown_in(update, 0),
        )
    except NotAllowed:
        await answer_query(update, _("This list has changed: open it again with /pointage."))
        return
    await answer_query(
        update,
        ngettext(
            "Session closed: {count} absent, their family told.",
            "Session closed: {count} absent, their families told.",
            closed.no_shows,
        ).format(count=closed.no_shows),
    )
    await _show(update, runtime, closed.view, 0, Mode.TICK)


# --- /contrat --------------------------------------------------------------------------------


@staff_action("staff.contract")
async def contract(update: Update, context: Context) -> None:
    """/contrat N_FAMILLE PRÉNOM SERVICE lun,mar,jeu: a child's regular days of a service."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    words = command_text(update).split()
    services = [(s.code, s.name) for s in runtime.structure.services]
    number = parse_family_number(words[0]) if words else None
    service_code = match_service(words[2], services) if len(words) >= 3 else None
    days_text = " ".join(words[3:])
    clearing = days_text.strip().lower() in ("aucun", "none")
    weekdays = frozenset() if clearing else parse_contract_days(days_text)
    if number is None or service_code is None or weekdays is None:
        await message.reply_text(usage("contrat"))
        return
    result = await attendance.set_contract(
        runtime.database,
        runtime.structure,
        family_number=number,
        first_name=words[1],
        service_code=service_code,
        weekdays=weekdays,
        staff_id=user_id_of(update) or 0,
        now=runtime.now(),
        today=runtime.today(),
        tz=runtime.settings.tz,
    )
    if result.outcome is ContractOutcome.SET:
        days = ", ".join(WEEKDAY_NAMES[d] for d in sorted(result.weekdays)) or _("none")
        text = _(
            "🔁 {child} — {service}: regular days {days}. {added} days added to the planning, "
            "{removed} removed."
        ).format(
            child=escape(result.child),
            service=escape(result.service_name),
            days=days,
            added=result.days_added,
            removed=result.days_removed,
        )
    elif result.outcome is ContractOutcome.DAYS_NOT_RUN:
        text = _("{service} does not run on every one of these days.").format(
            service=escape(result.service_name)
        )
    elif result.outcome is ContractOutcome.UNKNOWN_SERVICE:
        text = usage("contrat")
    else:
        text = _("No child of that first name of family {number} is enrolled in {service}.").format(
            number=escape(number), service=escape(result.service_name)
        )
    await message.reply_text(text)


def build_handlers() -> list[AnyHandler]:
    """/pointage, its buttons, and /contrat."""
    return [
        CommandHandler("pointage", pointage),
        CallbackQueryHandler(tap, pattern=callbacks.pattern(callbacks.ATTENDANCE_TAP)),
        CallbackQueryHandler(page_or_mode, pattern=callbacks.pattern(callbacks.ATTENDANCE_PAGE)),
        CallbackQueryHandler(all_present, pattern=callbacks.pattern(callbacks.ATTENDANCE_ALL)),
        CallbackQueryHandler(add_picker, pattern=callbacks.pattern(callbacks.ATTENDANCE_ADD)),
        CallbackQueryHandler(add_one, pattern=callbacks.pattern(callbacks.ATTENDANCE_ADD_CHILD)),
        CallbackQueryHandler(close, pattern=callbacks.pattern(callbacks.ATTENDANCE_CLOSE)),
        CommandHandler("contrat", contract),
    ]
