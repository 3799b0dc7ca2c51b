"""The family's data rights: /mesdonnees sends every piece of data held about the family.

Two files: a JSON document (complete, for machines) and a text file a parent can read, table by
table. Their content never goes to the logs; the export is audited with ids only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.i18n import N_, _, format_timestamp
from bot.ptb_types import AnyHandler
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


# Columns named for a person; ids and technical keys are in the JSON file only.
COLUMN_LABELS: dict[str, str] = {
    "number": N_("Number"),
    "civility": N_("Civility"),
    "last_name": N_("Last name"),
    "first_name": N_("First name"),
    "role": N_("Role"),
    "quality": N_("Quality"),
    "situation": N_("Situation"),
    "address": N_("Address"),
    "postal_code": N_("Postal code"),
    "city": N_("City"),
    "phone": N_("Phone"),
    "phone_home": N_("Home phone"),
    "phone_work": N_("Work phone"),
    "phone_mobile": N_("Mobile"),
    "mobile": N_("Mobile"),
    "email": N_("Email"),
    "email_consent": N_("Accepts emails"),
    "sms_consent": N_("Accepts text messages"),
    "profession": N_("Profession"),
    "employer": N_("Employer"),
    "employer_address": N_("Employer's address"),
    "csp": N_("Socio-professional category"),
    "regime": N_("Regime"),
    "caf_number": N_("CAF allocataire number"),
    "quotient_familial": N_("Quotient familial"),
    "caf_children_count": N_("Children counted by the CAF"),
    "organisme_rattachement": N_("Attached to"),
    "iban": N_("IBAN"),
    "bic": N_("BIC"),
    "bank_name": N_("Bank"),
    "account_holder": N_("Account holder"),
    "direct_debit": N_("Direct debit"),
    "birth_date": N_("Date of birth"),
    "sex": N_("Sex"),
    "school": N_("School"),
    "class_name": N_("Class"),
    "glasses": N_("Wears glasses"),
    "doctor": N_("Doctor"),
    "doctor_name": N_("Doctor"),
    "doctor_phone": N_("Doctor's phone"),
    "name": N_("Name"),
    "given_on": N_("Date of vaccination"),
    "booster_on": N_("Booster date"),
    "dose": N_("Dose"),
    "lot": N_("Batch"),
    "description": N_("Description"),
    "relation": N_("Relationship"),
    "kind": N_("Kind"),
    "status": N_("Status"),
    "day": N_("Day"),
    "starts_on": N_("From"),
    "ends_on": N_("Until"),
    "created_at": N_("Created on"),
    "updated_at": N_("Updated on"),
    "decided_at": N_("Decided on"),
    "decided_by_name": N_("Decided by"),
    "refusal_reason": N_("Reason of the refusal"),
    "reason": N_("Reason"),
    "payload": N_("Details"),
    "details": N_("Details"),
    "subject": N_("Subject"),
    "body": N_("Text"),
    "direction": N_("Direction"),
    "author_name": N_("Author"),
    "read_at": N_("Read on"),
    "deleted_at": N_("Deleted on"),
    "attachment_kind": N_("Attachment"),
    "issued_on": N_("Issued on"),
    "due_on": N_("Due on"),
    "period_start": N_("Period from"),
    "period_end": N_("Period until"),
    "total": N_("Total"),
    "amount": N_("Amount"),
    "paid_on": N_("Paid on"),
    "method": N_("Method"),
    "reference": N_("Reference"),
    "label": N_("Label"),
    "quantity": N_("Quantity"),
    "unit_price": N_("Unit price"),
    "language": N_("Language"),
    "app_language": N_("Language of the Telegram app"),
    "first_seen_at": N_("First seen on"),
    "unreachable_since": N_("Unreachable since"),
    "linked_at": N_("Linked on"),
    "linked_by": N_("Linked by"),
    "revoked_at": N_("Unlinked on"),
    "expires_at": N_("Expires on"),
    "used_at": N_("Used on"),
    "action": N_("Action"),
    "outcome": N_("Outcome"),
    "actor_kind": N_("Done by"),
    "at": N_("On"),
    "target": N_("About"),
    "note": N_("Comment"),
    "enabled": N_("Enabled"),
    "active": N_("Active"),
    "sent_at": N_("Sent on"),
    "custody": N_("Custody"),
    "regular_weekdays": N_("Usual days"),
    "offered_at": N_("Place offered on"),
    "from_status": N_("Previous status"),
    "to_status": N_("New status"),
    "title": N_("Title"),
    "file_name": N_("File"),
    "withdrawn_at": N_("Withdrawn on"),
}
VALUE_LABELS: dict[str, str] = {
    "staff": N_("the structure's staff"),
    "parent": N_("a parent"),
    "anonymous": N_("someone not linked"),
    "system": N_("the bot"),
    "ok": N_("done"),
    "refused": N_("refused"),
}


def _hidden(column: str) -> bool:
    """Ids and technical keys: meaningful to a computer only (the JSON file keeps them)."""
    return (
        column == "id" or column.endswith(("_id", "_hash", "_key")) or column not in COLUMN_LABELS
    )


def _readable(value: Any) -> str:
    """A value as a person reads it: yes/no, a translated code, nested data as "key: value"."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_readable(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_readable(item) for item in value)
    if isinstance(value, str) and value in VALUE_LABELS:
        return _(VALUE_LABELS[value])
    return str(value)


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
        lines.append("== " + _("{table}: {count}").format(table=label, count=len(rows)) + " ==")
        for row in rows:
            for key, value in row.items():
                if not _hidden(key):
                    lines.append(
                        "  "
                        + _("{label}: {value}").format(
                            label=_(COLUMN_LABELS[key]), value=_readable(value)
                        )
                    )
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
    as_json = json.dumps(export.as_json(), ensure_ascii=False, indent=2, sort_keys=False).encode(
        "utf-8"
    )
    await chat.send_message(
        _(
            "🔐 Here is all the data the structure holds about your family: a text file to read, and the same "
            "data as JSON. To have something corrected, use « My account » or « My children », or write to the structure."
        )
    )
    await chat.send_document(
        InputFile(
            render_text(export, runtime.settings.tz).encode("utf-8"),
            filename=f"mes-donnees-{export.family_number}-{stamp}.txt",
        )
    )
    await chat.send_document(
        InputFile(as_json, filename=f"mes-donnees-{export.family_number}-{stamp}.json")
    )
    return None


def build_handlers() -> list[AnyHandler]:
    """/mesdonnees and its button (steps of the family conversation)."""
    return [
        CommandHandler("mesdonnees", step(send_my_data), filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(step(send_my_data), pattern=callbacks.pattern(callbacks.MY_DATA)),
    ]
