"""Planning: a child's month as a calendar keyboard, a day's services, and what can be done.

Réserver, Annuler and Déclarer une absence act on a day; "Réserver plusieurs jours" books a
weekly pattern until the next holidays. The same message is edited as the parent moves around.
Every button carries only opaque ids, and the child is re-checked against the tapping parent's
family on every tap.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks
from bot.domain.model import AbsenceReason, DayStatus
from bot.domain.planning import Mark, Month, day_code, day_mark, parse_day, status_mark
from bot.domain.rules import Reason
from bot.i18n import N_, _, babel_locale, format_day, format_moment
from bot.outgoing import Outgoing, Params, template
from bot.runtime import Runtime, get_runtime
from bot.services import booking_requests  # noqa: F401 - registers booking and absence requests
from bot.services import bookings
from bot.services.bookings import BookingOutcome, DayAction, DayActionResult, DayView, MonthPlanning, MonthView, ServiceDay
from bot.services.use_case import NotAllowed
from conversations.common import TAB_PLANNING, Context, answer_query, escape, parent_handler, show, user_id_of
from conversations.absence_proof import proof_keyboard
from conversations.planning_texts import STATUS_LABELS, explain_refusal, render_outcome
from storage.models import Child

logger = logging.getLogger(__name__)

WEEKDAY_HEADERS = (N_("Mo"), N_("Tu"), N_("We"), N_("Th"), N_("Fr"), N_("Sa"), N_("Su"))
LEGEND = (
    (Mark.RESERVED, N_("booked")),
    (Mark.REGULAR, N_("regular")),
    (Mark.BOOKING_PROCESSING, N_("booking being processed")),
    (Mark.WAITING, N_("waiting list")),
    (Mark.REFUSED, N_("booking refused")),
    (Mark.ABSENCE_PROCESSING, N_("absence being processed")),
    (Mark.ABSENT_EXCUSED, N_("excused absence")),
    (Mark.ABSENT_BILLED, N_("billed absence")),
    (Mark.PRESENT, N_("present")),
    (Mark.CLOSURE, N_("closed")),
    (Mark.OTHER_HOUSEHOLD, N_("the other household's week")),
    (Mark.PUBLIC_HOLIDAY, N_("public holiday")),
    (Mark.SHORT_HOLIDAYS, N_("short holidays")),
    (Mark.SUMMER_HOLIDAYS, N_("summer holidays")),
)

# Callback codes of the day's actions; "cl" is the confirmation of a late cancellation.
BOOK, CANCEL, CANCEL_LATE, ABSENCE, WAIT = "b", "c", "cl", "a", "w"
ACTIONS = {BOOK: (DayAction.BOOK, False), CANCEL: (DayAction.CANCEL, False), CANCEL_LATE: (DayAction.CANCEL, True), WAIT: (DayAction.WAIT, False)}
ALL_CHILDREN = 0  # the child id of "tous mes enfants" in callback data
REASON_CODES = {"i": AbsenceReason.ILLNESS, "p": AbsenceReason.PERSONAL, "o": AbsenceReason.OTHER}


# --- entry points ----------------------------------------------------------------------------


@parent_handler
async def open_planning(update: Update, context: Context) -> None:
    """The Planning tab: choose a child (skipped when there is only one)."""
    runtime = get_runtime(context)
    start = await bookings.open_planning(
        runtime.database, user_id_of(update), structure=runtime.structure, tz=runtime.settings.tz, now=runtime.now()
    )
    if start.month is not None:
        await _show_month(update, runtime, start.month)
        return
    if not start.children:
        await show(update, _("No child is recorded for your family."), _home_keyboard())
        return
    month = Month.of(runtime.today()).code()
    rows = [
        [InlineKeyboardButton(f"{c.first_name}", callback_data=callbacks.build(callbacks.PLANNING_MONTH, c.id, month))]
        for c in start.children
    ]
    rows.append([InlineKeyboardButton(_("👨‍👩‍👧 All my children"), callback_data=callbacks.build(callbacks.PLANNING_MONTH, ALL_CHILDREN, month))])
    rows.append(_home_row())
    await show(update, _("<b>Planning</b>\nChoose a child:"), InlineKeyboardMarkup(rows))


@parent_handler
async def on_month(update: Update, context: Context) -> None:
    """◀ ▶ and the child picker: show a month (child 0: all the children together)."""
    parsed = _parsed(update)
    child_id, month = parsed.int_arg(0), Month.parse(parsed.arg(1))
    if child_id is None or month is None:
        raise NotAllowed()
    runtime = get_runtime(context)
    view = await bookings.show_month(
        runtime.database,
        user_id_of(update),
        None if child_id == ALL_CHILDREN else child_id,
        month,
        structure=runtime.structure,
        tz=runtime.settings.tz,
        now=runtime.now(),
    )
    await _show_month(update, runtime, view)


@parent_handler
async def on_day(update: Update, context: Context) -> None:
    """A day of the calendar: its services and what can be done."""
    parsed = _parsed(update)
    child_id, day = parsed.int_arg(0), parse_day(parsed.arg(1))
    if child_id is None or day is None:
        raise NotAllowed()
    runtime = get_runtime(context)
    view = await bookings.show_day(
        runtime.database, user_id_of(update), child_id, day, structure=runtime.structure, tz=runtime.settings.tz, now=runtime.now()
    )
    await _show_day(update, runtime, view)


@parent_handler
async def on_action(update: Update, context: Context) -> None:
    """Réserver / Annuler / liste d'attente on a service's day, and the late confirmation."""
    parsed = _parsed(update)
    code, child_id, service_id, day = parsed.arg(0), parsed.int_arg(1), parsed.int_arg(2), parse_day(parsed.arg(3))
    if child_id is None or service_id is None or day is None or (code not in ACTIONS and code != ABSENCE):
        raise NotAllowed()
    if code == ABSENCE:
        await show(update, _("Why will your child be absent?"), reason_keyboard(child_id, service_id, day))
        return
    action, accept_late = ACTIONS[code]
    done = await _act(update, context, action, child_id, service_id, day, accept_late=accept_late)
    confirm = callbacks.build(callbacks.PLANNING_ACTION, CANCEL_LATE, child_id, service_id, day_code(day))
    await _show_outcome(update, get_runtime(context), done, confirm)


@parent_handler
async def on_reason(update: Update, context: Context) -> None:
    """An absence reason was chosen (maladie, convenance personnelle, autre)."""
    parsed = _parsed(update)
    code, late = parsed.arg(0), parsed.arg(1) == "1"
    child_id, service_id, day = parsed.int_arg(2), parsed.int_arg(3), parse_day(parsed.arg(4))
    if code not in REASON_CODES or child_id is None or service_id is None or day is None:
        raise NotAllowed()
    done = await _act(update, context, DayAction.ABSENCE, child_id, service_id, day, accept_late=late, reason=REASON_CODES[code])
    confirm = callbacks.build(callbacks.PLANNING_REASON, code, "1", child_id, service_id, day_code(day))
    await _show_outcome(update, get_runtime(context), done, confirm)


async def _act(
    update: Update,
    context: Context,
    action: DayAction,
    child_id: int,
    service_id: int,
    day: dt.date,
    *,
    accept_late: bool,
    reason: AbsenceReason | None = None,
) -> DayActionResult:
    runtime = get_runtime(context)
    return await bookings.act_on_day(
        runtime.database,
        user_id_of(update),
        action,
        child_id,
        service_id,
        day,
        structure=runtime.structure,
        tz=runtime.settings.tz,
        now=runtime.now(),
        accept_late=accept_late,
        reason=reason,
    )


async def _show_outcome(update: Update, runtime: Runtime, done: DayActionResult, confirm_data: str) -> None:
    """The day with what the action did; after a deadline, the question whether to go on."""
    result, view = done.result, done.view
    if result.outcome == BookingOutcome.LATE_CONSENT_NEEDED:
        await _ask_late_consent(update, view.child.id, view.day, confirm_data, result.deadline, runtime)
        return
    notice = render_outcome(result, runtime)
    if result.outcome == BookingOutcome.ABSENCE_PENDING and result.request_id is not None:
        notice += "\n" + _("📎 If you have a doctor's certificate, send it now: it is taken into account.")
        await show(update, notice, proof_keyboard(result.request_id))
        return
    await _show_day(update, runtime, view, notice=notice)


# --- messages the bot starts ---------------------------------------------------------------


@template(bookings.PLACE_FREED)
async def render_place_freed(runtime: Runtime, params: Params) -> Outgoing | None:
    """To the family whose waiting child got a freed place (see `bookings.PLACE_FREED`)."""
    day = dt.date.fromisoformat(str(params["day"]))
    names = {s.code: s.name for s in runtime.structure.services}
    services = escape(", ".join(names.get(str(code), str(code)) for code in params.get("services", [])))
    child = escape(str(params.get("child", "")))
    if params.get("pending"):
        text = _(
            "🎉 A place was freed on {day} ({services}) for {child}, who was on the waiting list: "
            "the booking was sent to the structure, which decides; you will be told."
        )
    else:
        text = _("🎉 A place was freed on {day} ({services}): {child}, who was on the waiting list, is now booked.")
    return Outgoing(text.format(day=format_day(day), services=services, child=child))


# --- rendering -------------------------------------------------------------------------------


async def _show_month(update: Update, runtime: Runtime, view: MonthView) -> None:
    await show(update, render_month_text(view.planning), month_keyboard(view.planning, runtime.today(), view.children_mask))


def render_month_text(view: MonthPlanning) -> str:
    """Title and legend of a month."""
    from babel.dates import format_date

    title = format_date(view.month.first_day(), "MMMM yyyy", locale=babel_locale()).capitalize()
    legend = " · ".join(f"{mark.value} {_(label)}" for mark, label in LEGEND)
    name = escape(view.child.first_name) if view.child is not None else _("all my children")
    return "\n".join(
        [
            _("<b>Planning of {name}</b> — {month}").format(name=name, month=title),
            _("Tap a day to book, cancel or declare an absence."),
            "",
            f"<i>{legend}</i>",
        ]
    )


def month_keyboard(view: MonthPlanning, today: dt.date, children_mask: int) -> InlineKeyboardMarkup:
    """One row per week, each day with its mark; ◀ ▶ to move month to month."""
    child_id = view.child.id if view.child is not None else ALL_CHILDREN
    from babel.dates import format_date

    title = format_date(view.month.first_day(), "MMM yyyy", locale=babel_locale())
    rows = [
        [
            InlineKeyboardButton("◀", callback_data=callbacks.build(callbacks.PLANNING_MONTH, child_id, view.month.shift(-1).code())),
            InlineKeyboardButton(title, callback_data=callbacks.build(callbacks.PLANNING_MONTH, child_id, view.month.code())),
            InlineKeyboardButton("▶", callback_data=callbacks.build(callbacks.PLANNING_MONTH, child_id, view.month.shift(1).code())),
        ],
        [InlineKeyboardButton(_(name), callback_data=callbacks.build(callbacks.NOOP)) for name in WEEKDAY_HEADERS],
    ]
    for week in view.month.weeks():
        row = []
        for day in week:
            if day is None:
                row.append(InlineKeyboardButton("·", callback_data=callbacks.build(callbacks.NOOP)))
                continue
            cell = view.cells[day]
            mark = day_mark(cell.kind, cell.closed, cell.statuses, cell.waiting, cell.other_household)
            label = f"{day.day}{mark.value if mark else ''}"
            if day == today:
                label = f"[{label}]"
            row.append(InlineKeyboardButton(label, callback_data=callbacks.build(callbacks.PLANNING_DAY, child_id, day_code(day))))
        rows.append(row)
    rows.append(
        [InlineKeyboardButton(_("📆 Book several days"), callback_data=callbacks.build(callbacks.PLANNING_PATTERN, children_mask, 0, 0))]
    )
    rows.append(_home_row())
    return InlineKeyboardMarkup(rows)


async def _show_day(update: Update, runtime: Runtime, view: DayView, notice: str = "") -> None:
    text = render_day_text(view.child, view.day, view.services, runtime, notice)
    await show(update, text, day_keyboard(view.child.id, view.day, view.services))


def render_day_text(child: Child, day: dt.date, services: list[ServiceDay], runtime: Runtime, notice: str = "") -> str:
    """A day: each enrolled service with its status and, when closed, why and since when."""
    lines = [notice, ""] if notice else []
    lines.append(_("<b>{name}</b> — {day}").format(name=escape(child.first_name), day=format_day(day)))
    if not services:
        lines.append(_("Your child is not enrolled in any service that day."))
    for item in services:
        lines.append("")
        mark = status_mark(item.status) if item.status else None
        status = _(STATUS_LABELS[item.status]) if item.status else _("not booked")
        if item.waiting:
            status = _(STATUS_LABELS[DayStatus.PENDING])
        lines.append(f"{mark.value + ' ' if mark else ''}<b>{escape(item.name)}</b> : {status}")
        if item.not_running:
            lines.append("   " + _("The service does not run that day."))
        elif item.other_booked:
            lines.append("   " + _("Your child is already booked that day by the other household."))
        elif item.book is not None and not item.book.allowed:
            lines.append("   " + explain_refusal(item.book, runtime))
        elif item.cancel is not None and item.cancel.deadline is not None:
            lines.append("   " + _("Free cancellation until {deadline}.").format(deadline=format_moment(item.cancel.deadline, runtime.settings.tz)))
    return "\n".join(lines)


def day_keyboard(child_id: int, day: dt.date, services: list[ServiceDay]) -> InlineKeyboardMarkup:
    """The actions possible now for each service, then back to the month."""
    return InlineKeyboardMarkup([*day_rows(child_id, day, services), [month_button(child_id, day)]])


def month_button(child_id: int, day: dt.date) -> InlineKeyboardButton:
    """Back to the month of a day."""
    return InlineKeyboardButton(
        _("📅 Back to the month"), callback_data=callbacks.build(callbacks.PLANNING_MONTH, child_id, Month.of(day).code())
    )


def day_rows(child_id: int, day: dt.date, services: list[ServiceDay], prefix: str = "") -> list[list[InlineKeyboardButton]]:
    """One row per action possible now on each service of a child's day."""
    rows = []
    for item in services:
        def button(label: str, action: str) -> InlineKeyboardButton:
            return InlineKeyboardButton(
                prefix + label.format(service=item.name),
                callback_data=callbacks.build(callbacks.PLANNING_ACTION, action, child_id, item.service_id, day_code(day)),
            )

        if item.book is not None and item.book.allowed:
            rows.append([button(_("✅ Book: {service}"), BOOK)])
        elif item.book is not None and item.book.reason == Reason.FULL:
            rows.append([button(_("🕒 Join the waiting list: {service}"), WAIT)])
        if item.status == DayStatus.BOOKING_PROCESSING:
            rows.append([button(_("↩️ Withdraw the request: {service}"), CANCEL)])
        if item.cancel is not None and item.cancel.allowed:
            rows.append([button(_("❎ Cancel: {service}"), CANCEL)])
        if item.absence is not None and item.absence.allowed:
            rows.append([button(_("🤒 Declare an absence: {service}"), ABSENCE)])
        if item.proof_request_id is not None:
            rows.append(
                [InlineKeyboardButton(prefix + _("📎 Send the doctor's certificate"), callback_data=callbacks.build(callbacks.PROOF, item.proof_request_id))]
            )
    return rows


async def _ask_late_consent(
    update: Update, child_id: int, day: dt.date, confirm_data: str, deadline: dt.datetime | None, runtime: Runtime
) -> None:
    """After the deadline: say which deadline applied and that the day will be billed."""
    text = _("⚠️ The deadline has passed.")
    if deadline is not None:
        text += "\n" + _("It was {deadline}.").format(deadline=format_moment(deadline, runtime.settings.tz))
    text += "\n" + _("If you confirm, the day will be billed unless the structure excuses the absence.")
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("Confirm"), callback_data=confirm_data)],
            [InlineKeyboardButton(_("Back"), callback_data=callbacks.build(callbacks.PLANNING_DAY, child_id, day_code(day)))],
        ]
    )
    await show(update, text, keyboard)


def reason_keyboard(child_id: int, service_id: int, day: dt.date) -> InlineKeyboardMarkup:
    """Maladie / Convenance personnelle / Autre."""
    labels = (("i", _("🤒 Illness")), ("p", _("🏠 Personal convenience")), ("o", _("✏️ Other")))
    rows = [
        [InlineKeyboardButton(label, callback_data=callbacks.build(callbacks.PLANNING_REASON, code, "0", child_id, service_id, day_code(day)))]
        for code, label in labels
    ]
    rows.append([InlineKeyboardButton(_("Back"), callback_data=callbacks.build(callbacks.PLANNING_DAY, child_id, day_code(day)))])
    return InlineKeyboardMarkup(rows)


# --- helpers ---------------------------------------------------------------------------------


def _parsed(update: Update) -> callbacks.Callback:
    """The tapped button's data; `NotAllowed` when it is not one of ours."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        raise NotAllowed()
    return parsed


def _home_row() -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))]


def _home_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([_home_row()])


async def ignore(update: Update, context: Context) -> None:
    """Buttons that only label (weekday headers, blank cells)."""
    await answer_query(update)


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The planning's handlers (register before home's)."""
    from conversations.planning_pattern import build_handlers as pattern_handlers

    return [
        CallbackQueryHandler(open_planning, pattern=rf"^{callbacks.MENU}:{TAB_PLANNING}$"),
        CallbackQueryHandler(on_month, pattern=callbacks.pattern(callbacks.PLANNING_MONTH)),
        CallbackQueryHandler(on_day, pattern=callbacks.pattern(callbacks.PLANNING_DAY)),
        CallbackQueryHandler(on_action, pattern=callbacks.pattern(callbacks.PLANNING_ACTION)),
        CallbackQueryHandler(on_reason, pattern=callbacks.pattern(callbacks.PLANNING_REASON)),
        CallbackQueryHandler(ignore, pattern=callbacks.pattern(callbacks.NOOP)),
        *pattern_handlers(),
    ]

