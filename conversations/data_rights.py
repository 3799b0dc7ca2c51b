"""The family's data rights: /mesdonnees sends every piece of data held about the family.

Two files: a JSON document (complete, for machines) and a text file a parent can read, table by
table. Their content never goes to the logs; the export is audited with ids only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.i18n import N_, _, format_timestamp
from bot.runtime import get_runtime
from bot.services.data_export import FamilyExport, export_family_data
from conversations.common import Context, parent_handler, user_id_of
from conversations.forms import State, step

logger = logging.getLogger(__name__)

TABLE_LABELS: dict[str, str] = {
    "families": N_("Family record"),
    "guardians": N_("Responsable and spouse"),
    "telegram_users": N_("Telegram accounts"),
    "telegram_links": N_("Links between Telegram accounts and the family"),
    "invites": N_("Invitation links"),
    "children": N_("Children"),
    "family_children": N_("Children of the family"),
    "vaccinations": N_("Vaccinations"),
    "health_items": N_("Allergies, illnesses, contra-indications, PAI"),
    "authorized_persons": N_("Persons authorised to pick the children up"),
    "enrolments": N_("Enrolments"),
    "day_entries": N_("Planning (bookings, absences, attendance)"),
    "day_entry_events": N_("History of the planning"),
    "waiting_list": N_("Waiting list"),
    "requests": N_("Requests"),
    "messages": N_("Messages"),
    "invoices": N_("Invoices"),
    "invoice_lines": N_("Invoice lines"),
    "payments": N_("Payments"),
    "reminder_preferences": N_("Reminder preferences"),
    "reminder_log": N_("Reminders sent"),
    "audit_log": N_("Journal of actions"),
    "bot_state": N_("Dialogue in progress"),
}


def render_text(export: FamilyExport, tz: Any) -> str:
    """The export as a text a parent can read."""
    lines = [
        _("Data held about family no. {number}").format(number=export.family_number),
        _("Generated on {moment}").format(moment=format_timestamp(export.generated_at, tz)),
        _("The JSON file sent with this one holds the same data, for a computer."),
        "",
    ]
    for table, rows in export.tables.items():
        label = _(TABLE_LABELS[table]) if table in TABLE_LABELS else table
        lines.append(f"== {label} ({table}) : {len(rows)} ==")
        for row in rows:
            for key, value in row.items():
                shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
                lines.append(f"  {key}: {'' if shown is None else shown}")
            lines.append("  --")
        lines.append("")
    return "\n".join(lines)


@parent_handler
async def send_my_data(update: Update, context: Context) -> State | None:
    """/mesdonnees, or the 🔐 button: send the two files."""
    chat = update.effective_chat
    if chat is None:
        return None
    runtime = get_runtime(context)
    export = await export_family_data(runtime.database, user_id_of(update), now=runtime.now())
    if export is None:
        return None
    logger.info("data export sent (%s tables)", len(export.tables))
    stamp = runtime.today().isoformat()
    as_json = json.dumps(export.as_json(), ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
    await chat.send_message(
        _(
            "🔐 Here is all the data the structure holds about your family: a text file to read, and the same "
            "data as JSON. To have something corrected, use « My account » or « My children », or write to the structure."
        )
    )
    await chat.send_document(
        InputFile(render_text(export, runtime.settings.tz).encode("utf-8"), filename=f"mes-donnees-{export.family_number}-{stamp}.txt")
    )
    await chat.send_document(InputFile(as_json, filename=f"mes-donnees-{export.family_number}-{stamp}.json"))
    return None


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """/mesdonnees and its button (steps of the family conversation)."""
    return [
        CommandHandler("mesdonnees", step(send_my_data), filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(step(send_my_data), pattern=callbacks.pattern(callbacks.MY_DATA)),
    ]
