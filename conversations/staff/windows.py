"""/vacances: staff open the booking window of a holiday period (ALSH vacances).

`/vacances DEBUT FIN OUVERTURE FERMETURE` sets it; `/vacances` alone lists the windows to come.
Parents enrolled in the service are told when a window opens (by the reminder job).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.domain.staff_input import parse_day
from bot.i18n import _, format_day, format_moment
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services.booking_windows import WindowOutcome, set_booking_window, upcoming_windows
from conversations.common import escape, user_id_of
from conversations.staff.common import Context, command_text, staff_action
from conversations.usages import usage


@staff_action("staff.booking_window")
async def booking_window(update: Update, context: Context) -> None:
    """Set a holiday booking window, or list those to come."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    words = command_text(update).split()
    if not words:
        await message.reply_text(await _listing(runtime, user_id_of(update)))
        return
    parsed = [parse_day(word, runtime.today()) for word in words[:4]]
    days = [day for day in parsed if day is not None]
    if len(words) != 4 or len(days) != 4:
        await message.reply_text(usage("vacances"))
        return
    start, end, opens, closes = days
    result = await set_booking_window(
        runtime.database,
        runtime.structure,
        runtime.settings.tz,
        period_start=start,
        period_end=end,
        opens_on=opens,
        closes_on=closes,
        staff_id=user_id_of(update),
        now=runtime.now(),
    )
    if result.outcome == WindowOutcome.BAD_DATES:
        await message.reply_text(
            _(
                "These dates do not fit: the window must open before it closes, and close before the holidays start."
            )
            + "\n"
            + usage("vacances")
        )
        return
    if result.outcome == WindowOutcome.NO_SERVICE:
        await message.reply_text(_("No service of the structure is booked in a holiday window."))
        return
    if result.opens_at is None or result.closes_at is None:  # set whenever a window was saved
        raise RuntimeError(f"booking window {result.outcome} without its moments")
    names = ", ".join(escape(runtime.structure.service(code).name) for code in result.services)
    await message.reply_text(
        _(
            "✅ {services}: the holidays from {start} to {end} may be booked from {opens} to {closes}. Enrolled families are told when it opens."
        ).format(
            services=names,
            start=format_day(start),
            end=format_day(end),
            opens=format_moment(result.opens_at, runtime.settings.tz),
            closes=format_moment(result.closes_at, runtime.settings.tz),
        )
    )


async def _listing(runtime: Runtime, staff_id: int) -> str:
    windows = await upcoming_windows(
        runtime.database, runtime.today(), staff_id=staff_id, now=runtime.now()
    )
    if not windows:
        return _("No holiday booking window to come.") + "\n" + usage("vacances")
    lines = [_("<b>Holiday booking windows</b>")]
    for window, code in windows:
        lines.append(
            _("• {service}: {start} – {end}, bookings {opens} – {closes}").format(
                service=escape(runtime.structure.service(code).name),
                start=format_day(window.period_starts_on),
                end=format_day(window.period_ends_on),
                opens=format_moment(window.opens_at, runtime.settings.tz),
                closes=format_moment(window.closes_at, runtime.settings.tz),
            )
        )
    return "\n".join(lines)


def build_handlers() -> list[AnyHandler]:
    """/vacances."""
    return [CommandHandler("vacances", booking_window)]
