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
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.domain.model import AbsenceReason, DayStatus
from bot.domain.planning import Mark, Month, day_code, day_mark, parse_day, status_mark
from bot.domain.rules import Consequence, Reason
from bot.i18n import N_, _, babel_locale, elide, format_day, format_moment, ngettext
from bot.outgoing import Outgoing, Params, template
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services import (
    booking_requests,  # noqa: F401 - registers booking and absence requests
    bookings,
)
from bot.services.bookings import (
    BookingOutcome,
    DayAction,
    DayActionResult,
    DayView,
    MonthPlanning,
    MonthView,
    ServiceDay,
)
from bot.services.use_case import NotAllowed
from conversations.absence_proof import TYPED, forget_typed_reason, proof_keyboard, typed_reason
from conversations.common import (
    TAB_PLANNING,
    Context,
    answer_query,
    escape,
    parent_handler,
    show,
    user_id_of,
)
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
ACTIONS = {
    BOOK: (DayAction.BOOK, False),
    CANCEL: (DayAction.CANCEL, False),
    CANCEL_LATE: (DayAction.CANCEL, True),
    WAIT: (DayAction.WAIT, False),
}
ALL_CHILDREN = 0  # the child id of "tous mes enfants" in callback data
REASON_CODES = {"i": AbsenceReason.ILLNESS, "p": AbsenceReason.PERSONAL, "o": AbsenceReason.OTHER}


# --- entry points ----------------------------------------------------------------------------


@parent_handler
async def open_planning(update: Update, context: Context) -> None:
    """The Planning tab: choose a child (skipped when there is only one)."""
    runtime = get_runtime(context)
    start = await bookings.open_planning(
        runtime.database,
        user_id_of(update),
        structure=runtime.structure,
        tz=runtime.settings.tz,
        now=runtime.now(),
    )
    if start.month is not None:
        await _show_month(update, runtime, start.month)
        return
    if not start.children:
        await show(update, _("No child is recorded for your family."), _home_keyboard())
        return
    month = Month.of(runtime.today()).code()
    rows = [
        [
            InlineKeyboardButton(
                f"{c.first_name}",
                callback_data=callbacks.build(callbacks.PLANNING_MONTH, c.id, month),
            )
        ]
        for c in start.children
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("👨‍👩‍👧 All my children"),
                callback_data=callbacks.build(callbacks.PLANNING_MONTH, ALL_CHILDREN, month),
            )
        ]
    )
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
        runtime.database,
        user_id_of(update),
        child_id,
        day,
        structure=runtime.structure,
        tz=runtime.settings.tz,
        now=runtime.now(),
    )
    await _show_day(update, runtime, view)


@parent_handler
async def on_action(update: Update, context: Context) -> None:
    """Réserver / Annuler / liste d'attente on a service's day, and the late confirmation."""
    parsed = _parsed(update)
    code, child_id, service_id, day = (
        parsed.arg(0),
        parsed.int_arg(1),
        parsed.int_arg(2),
        parse_day(parsed.arg(3)),
    )
    if (
        child_id is None
        or service_id is None
        or day is None
        or (code not in ACTIONS and code != ABSENCE)
    ):
        raise NotAllowed()
    if code == ABSENCE:
        runtime = get_runtime(context)
        await bookings.check_family_child(
            runtime.database, user_id_of(update), child_id, now=runtime.now()
        )  # an old button after /deconnexion, or another family's child: no question asked
        await show(
            update, _("Why will your child be absent?"), reason_keyboard(child_id, service_id, day)
        )
        return
    action, accept_late = ACTIONS[code]
    done = await _act(update, context, action, child_id, service_id, day, accept_late=accept_late)
    if action == DayAction.CANCEL and done.result.outcome == BookingOutcome.LATE_CONSENT_NEEDED:
        # a late cancellation goes to staff as an absence: its reason is asked (and a certificate
        # then offered), so staff never read "Motif : autre" by default
        runtime = get_runtime(context)
        text = (
            late_consent_text(done.result.deadline, runtime)
            + "\n\n"
            + _("Why will your child be absent?")
        )
        await show(update, text, reason_keyboard(child_id, service_id, day, late=True))
        return
    confirm = callbacks.build(
        callbacks.PLANNING_ACTION, CANCEL_LATE, child_id, service_id, day_code(day)
    )
    await _show_outcome(update, get_runtime(context), done, confirm)


@parent_handler
async def on_reason(update: Update, context: Context) -> None:
    """An absence reason was chosen (maladie, convenance personnelle), or the reason typed after
    "✏️ Autre" confirmed (code TYPED; see conversations/absence_proof.py)."""
    parsed = _parsed(update)
    code, late = parsed.arg(0), parsed.arg(1) == "1"
    child_id, service_id, day = parsed.int_arg(2), parsed.int_arg(3), parse_day(parsed.arg(4))
    if (
        (code not in REASON_CODES and code != TYPED)
        or child_id is None
        or service_id is None
        or day is None
    ):
        raise NotAllowed()
    note = typed_reason(context) if code == TYPED else None
    if code == TYPED and note is None:  # the typed reason is gone (an old button): ask again
        await show(
            update,
            _("Why will your child be absent?"),
            reason_keyboard(child_id, service_id, day, late=late),
        )
        return
    reason = AbsenceReason.OTHER if code == TYPED else REASON_CODES[code]
    done = await _act(
        update,
        context,
        DayAction.ABSENCE,
        child_id,
        service_id,
        day,
        accept_late=late,
        reason=reason,
        note=note,
    )
    if done.result.outcome != BookingOutcome.LATE_CONSENT_NEEDED:
        forget_typed_reason(context)
    confirm = callbacks.build(
        callbacks.PLANNING_REASON, code, "1", child_id, service_id, day_code(day)
    )
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
    note: str | None = None,
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
        note=note,
    )


async def _show_outcome(
    update: Update, runtime: Runtime, done: DayActionResult, confirm_data: str
) -> None:
    """The day with what the action did; after a deadline, the question whether to go on."""
    result, view = done.result, done.view
    if result.outcome == BookingOutcome.LATE_CONSENT_NEEDED:
        await _ask_late_consent(
            update, view.child.id, view.day, confirm_data, result.deadline, runtime
        )
        return
    notice = render_outcome(result, runtime)
    if result.outcome == BookingOutcome.ABSENCE_PENDING and result.request_id is not None:
        notice += "\n" + _(
            "📎 If you have a doctor's certificate, send it now: it is taken into account."
        )
        await show(update, notice, proof_keyboard(result.request_id))
        return
    await _show_day(update, runtime, view, notice=notice)


# --- messages the bot starts ---------------------------------------------------------------


@template(bookings.PLACE_FREED)
async def render_place_freed(runtime: Runtime, params: Params) -> Outgoing | None:
    """To the family whose waiting child got a freed place (see `bookings.PLACE_FREED`)."""
    day = dt.date.fromisoformat(str(params["day"]))
    names = {s.code: s.name for s in runtime.structure.services}
    services = escape(
        ", ".join(names.get(str(code), str(code)) for code in params.get("services", []))
    )
    child = escape(str(params.get("child", "")))
    if params.get("pending"):
        text = _(
            "🎉 A place was freed on {day} ({services}) for {child}, who was on the waiting list: "
            "the booking was sent to the structure, which decides; you will be told."
        )
    else:
        text = _(
            "🎉 A place was freed on {day} ({services}): {child}, who was on the waiting list, is now booked."
        )
    return Outgoing(text.format(day=format_day(day), services=services, child=child))


@template(bookings.WEEK_BELOW_MINIMUM)
async def render_week_below_minimum(runtime: Runtime, params: Params) -> Outgoing | None:
    """To staff: a cancellation left a week below the service's minimum (`below: flag`)."""
    names = {s.code: s.name for s in runtime.structure.services}
    service = str(params.get("service", ""))
    required = int(params.get("required", 0))
    text = ngettext(
        "⚠️ Weekly minimum not reached: after a cancellation, {child} has {booked} day of {service} "
        "in the week of {week} ({required} required).",
        "⚠️ Weekly minimum not reached: after a cancellation, {child} has {booked} days of {service} "
        "in the week of {week} ({required} required).",
        int(params.get("booked", 0)),
    )
    return Outgoing(
        text.format(
            child=escape(str(params.get("child", ""))),
            booked=int(params.get("booked", 0)),
            service=escape(names.get(service, service)),
            week=format_day(dt.date.fromisoformat(str(params["week"]))),
            required=required,
        )
    )


# --- rendering -------------------------------------------------------------------------------


async def _show_month(update: Update, runtime: Runtime, view: MonthView) -> None:
    await show(
        update,
        render_month_text(view.planning),
        month_keyboard(view.planning, runtime.today(), view.child_ids),
    )


def render_month_text(view: MonthPlanning) -> str:
    """Title and legend of a month."""
    from babel.dates import format_date

    title = format_date(view.month.first_day(), "MMMM yyyy", locale=babel_locale()).capitalize()
    legend = " · ".join(f"{mark.value} {_(label)}" for mark, label in LEGEND)
    if view.child is None:
        heading = _("<b>Planning of {name}</b> — {month}").format(
            name=_("all my children"), month=title
        )
    elif starts_with_vowel(view.child.first_name):  # French elision: "Planning d’EMMA"
        heading = elide(
            _("<b>{name}’s planning</b> — {month}").format(
                name=escape(view.child.first_name), month=title
            )
        )
    else:
        heading = _("<b>Planning of {name}</b> — {month}").format(
            name=escape(view.child.first_name), month=title
        )
    return "\n".join(
        [
            heading,
            _("Tap a day to book, cancel or declare an absence."),
            "",
            f"<i>{legend}</i>",
        ]
    )


def month_keyboard(
    view: MonthPlanning, today: dt.date, child_ids: tuple[int, ...]
) -> InlineKeyboardMarkup:
    """One row per week, each day with its mark; ◀ ▶ to move month to month."""
    child_id = view.child.id if view.child is not None else ALL_CHILDREN
    from babel.dates import format_date

    title = format_date(view.month.first_day(), "MMM yyyy", locale=babel_locale())
    rows = [
        [
            InlineKeyboardButton(
                "◀",
                callback_data=callbacks.build(
                    callbacks.PLANNING_MONTH, child_id, view.month.shift(-1).code()
                ),
            ),
            InlineKeyboardButton(
                title,
                callback_data=callbacks.build(
                    callbacks.PLANNING_MONTH, child_id, view.month.code()
                ),
            ),
            InlineKeyboardButton(
                "▶",
                callback_data=callbacks.build(
                    callbacks.PLANNING_MONTH, child_id, view.month.shift(1).code()
                ),
            ),
        ],
        [
            InlineKeyboardButton(_(name), callback_data=callbacks.build(callbacks.NOOP))
            for name in WEEKDAY_HEADERS
        ],
    ]
    for week in view.month.weeks():
        row = []
        for day in week:
            if day is None:
                row.append(InlineKeyboardButton("·", callback_data=callbacks.build(callbacks.NOOP)))
                continue
            cell = view.cells[day]
            mark = day_mark(
                cell.kind, cell.closed, cell.statuses, cell.waiting, cell.other_household
            )
            label = f"{day.day}{mark.value if mark else ''}"
            if day == today:
                label = f"[{label}]"
            row.append(
                InlineKeyboardButton(
                    label,
                    callback_data=callbacks.build(callbacks.PLANNING_DAY, child_id, day_code(day)),
                )
            )
        rows.append(row)
    from conversations.planning_pattern import pattern_data

    rows.append(
        [
            InlineKeyboardButton(
                _("📆 Book several days"),
                callback_data=pattern_data(frozenset(child_ids), 0, frozenset()),
            )
        ]
    )
    rows.append(_home_row())
    return InlineKeyboardMarkup(rows)


async def _show_day(update: Update, runtime: Runtime, view: DayView, notice: str = "") -> None:
    text = render_day_text(view.child, view.day, view.services, runtime, notice, view=view)
    await show(update, text, day_keyboard(view.child.id, view.day, view.services))


def render_day_text(
    child: Child,
    day: dt.date,
    services: list[ServiceDay],
    runtime: Runtime,
    notice: str = "",
    *,
    view: DayView | None = None,
) -> str:
    """A day: the child's services that run that day, each with its status and what still
    holds; when none runs, why (the closure's reason, the holidays, the public holiday)."""
    lines = [notice, ""] if notice else []
    lines.append(
        _("<b>{name}</b> — {day}").format(name=escape(child.first_name), day=format_day(day))
    )
    whole_closure = view is not None and view.closure_reason is not None
    shown = [
        item
        for item in services
        if not item.not_running or (item.closure_reason is not None and not whole_closure)
    ]
    if not services:
        lines.append(
            _("{name} is not enrolled in any service that day.").format(
                name=escape(child.first_name)
            )
        )
    elif not shown:
        lines.append(closed_day_text(view))
    for item in shown:
        lines.append("")
        mark = status_mark(item.status) if item.status else None
        status = _(STATUS_LABELS[item.status]) if item.status else _("not booked")
        if item.waiting:
            status = _(STATUS_LABELS[DayStatus.PENDING])
        if item.closure_reason is not None:
            status = _("closed")
        lines.append(f"{mark.value + ' ' if mark else ''}<b>{escape(item.name)}</b> : {status}")
        if item.closure_reason is not None:
            lines.append(
                "   " + _("Closed that day: {reason}.").format(reason=escape(item.closure_reason))
            )
        elif item.not_running:
            lines.append("   " + _("The service does not run that day."))
        elif item.other_booked:
            lines.append("   " + _("Your child is already booked that day by the other household."))
        elif item.book is not None and not item.book.allowed:
            lines.append("   " + explain_refusal(item.book, runtime))
        elif item.cancel is not None:
            lines.extend("   " + line for line in cancellation_lines(item, runtime))
    return "\n".join(lines)


def closed_day_text(view: DayView | None) -> str:
    """Why none of the child's services runs that day."""
    if view is not None and view.closure_reason is not None:
        return _("🚫 The structure is closed that day: {reason}.").format(
            reason=escape(view.closure_reason)
        )
    if view is not None and view.public_holiday is not None:
        return _("🎌 Public holiday ({name}): no service runs that day.").format(
            name=escape(view.public_holiday)
        )
    if view is not None and view.school_holidays is not None:
        return _("🏖 {holidays}: your child's services do not run during these holidays.").format(
            holidays=escape(view.school_holidays)
        )
    return _("None of your child's services runs that day.")


def cancellation_lines(item: ServiceDay, runtime: Runtime) -> list[str]:
    """What a booked day's cancellation still allows, never promising what has passed."""
    cancel, absence = item.cancel, item.absence
    if cancel is None:
        return []
    tz = runtime.settings.tz
    if cancel.allowed and cancel.consequence is Consequence.NONE and cancel.deadline is not None:
        return [
            _("Free cancellation until {deadline}.").format(
                deadline=format_moment(cancel.deadline, tz)
            )
        ]
    if cancel.allowed and cancel.deadline is not None:
        return [
            _(
                "The free cancellation deadline has passed ({deadline}): a cancellation now is billed unless the structure excuses it."
            ).format(deadline=format_moment(cancel.deadline, tz))
        ]
    if absence is not None and absence.allowed:
        return [_("The service has started: you can still declare an absence.")]
    return [_("The service is over for that day.")]


def day_keyboard(child_id: int, day: dt.date, services: list[ServiceDay]) -> InlineKeyboardMarkup:
    """The actions possible now for each service, then back to the month."""
    return InlineKeyboardMarkup([*day_rows(child_id, day, services), [month_button(child_id, day)]])


def month_button(child_id: int, day: dt.date) -> InlineKeyboardButton:
    """Back to the month of a day."""
    return InlineKeyboardButton(
        _("📅 Back to the month"),
        callback_data=callbacks.build(callbacks.PLANNING_MONTH, child_id, Month.of(day).code()),
    )


def day_rows(
    child_id: int, day: dt.date, services: list[ServiceDay], prefix: str = ""
) -> list[list[InlineKeyboardButton]]:
    """One row per action possible now on each service of a child's day."""

    def button(item: ServiceDay, label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            prefix + label.format(service=item.name),
            callback_data=callbacks.build(
                callbacks.PLANNING_ACTION, action, child_id, item.service_id, day_code(day)
            ),
        )

    rows = []
    for item in services:
        if item.book is not None and item.book.allowed:
            rows.append([button(item, _("✅ Book: {service}"), BOOK)])
        elif item.book is not None and item.book.reason == Reason.FULL:
            rows.append([button(item, _("🕒 Join the waiting list: {service}"), WAIT)])
        if item.status == DayStatus.BOOKING_PROCESSING:
            rows.append([button(item, _("↩️ Withdraw the request: {service}"), CANCEL)])
        if item.cancel is not None and item.cancel.allowed:
            rows.append([button(item, _("❎ Cancel: {service}"), CANCEL)])
        if item.absence is not None and item.absence.allowed:
            rows.append([button(item, _("🤒 Declare an absence: {service}"), ABSENCE)])
        if item.proof_request_id is not None:
            rows.append(
                [
                    InlineKeyboardButton(
                        prefix + _("📎 Send the doctor's certificate"),
                        callback_data=callbacks.build(callbacks.PROOF, item.proof_request_id),
                    )
                ]
            )
    return rows


async def _ask_late_consent(
    update: Update,
    child_id: int,
    day: dt.date,
    confirm_data: str,
    deadline: dt.datetime | None,
    runtime: Runtime,
) -> None:
    """After the deadline: say which deadline applied and that the day will be billed."""
    text = late_consent_text(deadline, runtime)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("Confirm"), callback_data=confirm_data)],
            [
                InlineKeyboardButton(
                    _("Back"),
                    callback_data=callbacks.build(callbacks.PLANNING_DAY, child_id, day_code(day)),
                )
            ],
        ]
    )
    await show(update, text, keyboard)


def late_consent_text(deadline: dt.datetime | None, runtime: Runtime) -> str:
    """Which deadline has passed, and that the day will be billed unless excused."""
    text = _("⚠️ The deadline has passed.")
    if deadline is not None:
        text += "\n" + _("It was {deadline}.").format(
            deadline=format_moment(deadline, runtime.settings.tz)
        )
    return (
        text
        + "\n"
        + _("If you confirm, the day will be billed unless the structure excuses the absence.")
    )


def reason_keyboard(
    child_id: int, service_id: int, day: dt.date, *, late: bool = False
) -> InlineKeyboardMarkup:
    """Maladie / Convenance personnelle / Autre (the reason typed, then confirmed); `late`: the
    parent already knows the day is billed unless excused (a late cancellation)."""
    labels = (("i", _("🤒 Illness")), ("p", _("🏠 Personal convenience")), ("o", _("✏️ Other")))
    flag = "1" if late else "0"
    rows = [
        [
            InlineKeyboardButton(
                label,
                callback_data=callbacks.build(
                    callbacks.PLANNING_REASON, code, flag, child_id, service_id, day_code(day)
                ),
            )
        ]
        for code, label in labels
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("Back"),
                callback_data=callbacks.build(callbacks.PLANNING_DAY, child_id, day_code(day)),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


# --- helpers ---------------------------------------------------------------------------------


def starts_with_vowel(name: str) -> bool:
    """Whether French elides "de" before this name ("d’EMMA", "d’Hugo"; not "de Yanis")."""
    import unicodedata

    first = unicodedata.normalize("NFD", name.strip()[:1]).lower()[:1]
    return first in "aeiouh" and first != ""


def _parsed(update: Update) -> callbacks.Callback:
    """The tapped button's data; `NotAllowed` when it is not one of ours."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        raise NotAllowed()
    return parsed


def _home_row() -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))
    ]


def _home_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([_home_row()])


async def ignore(update: Update, context: Context) -> None:
    """Buttons that only label (weekday headers, blank cells)."""
    await answer_query(update)


def build_handlers() -> list[AnyHandler]:
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
