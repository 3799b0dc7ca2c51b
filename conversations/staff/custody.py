"""/garde N_FAMILLE PRÉNOM MODE: staff set a child's custody in a foyer (garde alternée).

MODE is `complète` (every week), `impaire` / `paire` (odd or even ISO weeks), or a date: the
foyer has that week and every other week from it.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.domain.custody import monday_of
from bot.domain.model import Custody
from bot.domain.staff_input import parse_day_words
from bot.i18n import _, format_day
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services.custody import CustodyOutcome, set_custody
from conversations.common import escape, user_id_of
from conversations.input_errors import unknown_choice_error
from conversations.staff.common import Context, command_text, staff_action
from conversations.staff.family_pick import family_argument, register_pick
from conversations.usages import usage

MODES = {
    "complete": Custody.FULL,
    "complète": Custody.FULL,
    "impaire": Custody.ODD_WEEKS,
    "impaires": Custody.ODD_WEEKS,
    "paire": Custody.EVEN_WEEKS,
    "paires": Custody.EVEN_WEEKS,
}


@staff_action("staff.custody")
async def custody(update: Update, context: Context) -> None:
    """Set the custody, or explain how."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    words = command_text(update).split()
    if len(words) < 3:
        await message.reply_text(usage("garde"))
        return
    mode = words[-1].lower()
    if mode not in MODES and parse_day_words(mode, runtime.today()) is None:
        await message.reply_text(
            unknown_choice_error(
                _("mode"), words[-1], ["complète", "impaire", "paire", _("a date")]
            )
            + "\n\n"
            + usage("garde")
        )
        return
    number = await family_argument(
        update, context, "garde", " ".join(words[:-2]), " ".join(words[-2:])
    )
    if number is not None:
        await set_child_custody(update, context, number, " ".join(words[-2:]))


async def set_child_custody(update: Update, context: Context, number: str, rest: str) -> None:
    """/garde's child and mode for a N° famille (also after choosing among several of a name)."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    words = rest.split()
    mode = words[1].lower()
    reference = None if mode in MODES else parse_day_words(mode, runtime.today())
    kind = MODES.get(mode, Custody.EVEN_WEEKS)
    result = await set_custody(
        runtime.database,
        number,
        words[0],
        kind,
        reference,
        staff_id=user_id_of(update),
        now=runtime.now(),
    )
    if result.outcome == CustodyOutcome.UNKNOWN_FAMILY:
        await message.reply_text(
            _("No family has the number {number}.").format(number=escape(number))
        )
    elif result.outcome == CustodyOutcome.UNKNOWN_CHILD:
        await message.reply_text(
            _("Family {number} has no child named {name}.").format(
                number=escape(number), name=escape(words[1])
            )
        )
    else:
        what = {
            Custody.FULL: _("every week"),
            Custody.ODD_WEEKS: _("odd weeks"),
            Custody.EVEN_WEEKS: _("even weeks"),
        }[kind]
        if reference is not None:
            what = _("the week of {day} and every other week").format(
                day=format_day(monday_of(reference))
            )
        await message.reply_text(
            _("✅ {name} is in the care of family {number}: {weeks}.").format(
                name=escape(result.child_name or ""), number=escape(number), weeks=what
            )
        )


register_pick("garde", set_child_custody)


def build_handlers() -> list[AnyHandler]:
    """/garde."""
    return [CommandHandler("garde", custody)]
