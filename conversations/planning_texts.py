"""What the planning says: status words of the seed legend, refusal reasons, outcomes."""

from __future__ import annotations

from bot.domain.model import DayStatus
from bot.domain.rules import Decision, Reason
from bot.i18n import N_, _, format_moment, ngettext
from bot.runtime import Runtime
from bot.services.bookings import ActionResult, BookingOutcome

STATUS_LABELS = {
    DayStatus.RESERVED: N_("booked"),
    DayStatus.REGULAR: N_("regular"),
    DayStatus.PENDING: N_("waiting list"),
    DayStatus.BOOKING_PROCESSING: N_("booking being processed"),
    DayStatus.BOOKING_REFUSED: N_("booking refused"),
    DayStatus.ABSENCE_PROCESSING: N_("absence being processed"),
    DayStatus.ABSENT_EXCUSED: N_("excused absence"),
    DayStatus.ABSENT_BILLED: N_("billed absence"),
    DayStatus.PRESENT: N_("present"),
    DayStatus.CANCELLED: N_("cancelled"),
}
REASON_TEXTS = {
    Reason.CLOSURE: N_("the structure is closed that day"),
    Reason.PUBLIC_HOLIDAY: N_("it is a public holiday"),
    Reason.SCHOOL_HOLIDAYS: N_("the service does not run during the school holidays"),
    Reason.SCHOOL_TERM: N_("the service runs only during the school holidays"),
    Reason.WEEKDAY: N_("the service does not run on that day of the week"),
    Reason.TOO_LATE: N_("it is too late"),
    Reason.FULL: N_("there is no place left that day"),
    Reason.NO_BOOKING_WINDOW: N_("bookings for these holidays are not open yet"),
    Reason.BOOKING_WINDOW_NOT_OPEN: N_("bookings for these holidays are not open yet"),
    Reason.BOOKING_WINDOW_CLOSED: N_("bookings for these holidays are closed"),
    Reason.SERVICE_STARTED: N_("the service has already started"),
    Reason.SERVICE_OVER: N_("the service is over for that day"),
    Reason.BELOW_WEEKLY_MINIMUM: N_(
        "that week would have fewer days than the minimum; book the days of a week together with 📆 Book several days"
    ),
}


def render_outcome(result: ActionResult, runtime: Runtime) -> str:
    """What the action did, with the weekly minimum still to reach when there is one."""
    text = _render_outcome(result, runtime)
    shortfall = result.week_shortfall
    if shortfall is not None:
        text += "\n" + ngettext(
            "⚠️ At least {required} day a week is required: {booked} booked so far this week.",
            "⚠️ At least {required} days a week are required: {booked} booked so far this week.",
            shortfall.required,
        ).format(required=shortfall.required, booked=shortfall.booked)
    return text


def _render_outcome(result: ActionResult, runtime: Runtime) -> str:
    outcome = result.outcome
    if outcome == BookingOutcome.BOOKED:
        return _("✅ Booked.")
    if outcome == BookingOutcome.PENDING and result.other_household:
        return _(
            "⏳ This week is the other household's: your request was sent to the structure, which decides; you will be told."
        )
    if outcome == BookingOutcome.PENDING:
        return _("⏳ Request sent: the structure will answer; you will be told.")
    if outcome == BookingOutcome.ALREADY:
        return _("Nothing to change: it is already done.")
    if outcome == BookingOutcome.CANCELLED:
        return _("❎ Cancelled, nothing will be billed.")
    if outcome == BookingOutcome.ABSENCE_RECORDED:
        return _("🤒 Absence recorded, nothing will be billed.")
    if outcome == BookingOutcome.ABSENCE_PENDING:
        return _(
            "⌛ Absence sent to the structure: it decides whether the day is billed; you will be told."
        )
    if outcome == BookingOutcome.WAITING_LIST:
        return _(
            "🕒 Your child is on the waiting list. If a place is freed, it is booked for you and you are told."
        )
    if outcome == BookingOutcome.OTHER_HOUSEHOLD_BOOKED:
        return _("Your child is already booked that day by the other household.")
    if outcome == BookingOutcome.LATE_CONSENT_NEEDED:
        return _("⚠️ The deadline has passed.")
    if outcome == BookingOutcome.NOT_ENROLLED:
        return _("Your child is not enrolled in this service (or in a service that goes with it).")
    return "❌ " + explain_refusal(result.decision, runtime)


def explain_refusal(decision: Decision | None, runtime: Runtime) -> str:
    """Why an action is not possible, with the deadline that applied."""
    if decision is None or decision.reason is None:
        return _("This is not possible.")
    text = _("Not possible: {reason}.").format(reason=_(REASON_TEXTS[decision.reason]))
    if decision.reason == Reason.TOO_LATE and decision.deadline is not None:
        text += " " + _("The deadline was {deadline}.").format(
            deadline=format_moment(decision.deadline, runtime.settings.tz)
        )
    if decision.reason == Reason.BOOKING_WINDOW_CLOSED and decision.deadline is not None:
        text += " " + _("They closed {moment}.").format(
            moment=format_moment(decision.deadline, runtime.settings.tz)
        )
    elif decision.reason == Reason.BOOKING_WINDOW_NOT_OPEN and decision.opens_at is not None:
        text += " " + _("Bookings open {moment}.").format(
            moment=format_moment(decision.opens_at, runtime.settings.tz)
        )
    return text
