"""Switching a commune on from the admin group: /import, /lettres, /export.

- A file (CSV or .xlsx) sent with the caption `/import` (options: `--prune`, `--overwrite`) gets
  the dry-run report, as a message, as a file when it is long, and the errors as a CSV; a
  "✅ Import" button applies that very file (its SHA-256 is checked again).
- `/lettres` (families nobody linked yet), `/lettres tous`, or `/lettres N_FAMILLE…`: the
  invitation letters as one PDF; earlier invitations of those families stop working.
- `/export YYYY-MM`: the month's invoices and payments as two CSV files for the accounts.

Also the templates of the notices the staff group gets when an import is applied, or letters
are issued, from the command line.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.accounts_csv import invoices_csv, invoices_filename, payments_csv, payments_filename
from bot.domain.billing import parse_month
from bot.i18n import _, format_money, format_short_date, ngettext
from bot.import_texts import errors_csv, render_report, report_lines, summary_lines
from bot.letters import build_letters_pdf, letters_filename
from bot.outgoing import Outgoing, template
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services.accounts_export import month_export
from bot.services.family_import import (
    TEMPLATE_APPLIED,
    ImportOptions,
    ImportOutcome,
    ImportReport,
    apply_import,
    preview_import,
)
from bot.services.invitation_letters import TEMPLATE_ISSUED, Selection, issue_letters
from bot.telegram_text import fits
from conversations.common import escape
from conversations.staff.common import Context, command_text, staff_action

logger = logging.getLogger(__name__)

IMPORT_COMMAND = "import"
DRAFTS_KEY = "import_drafts"
"""chat_data key: {token: the file's id, name, digest and options} of reports awaiting confirmation."""
MAX_DRAFTS = 3
MESSAGE_BUDGET = 3500
"""UTF-16 units (as Telegram counts) of the report shown in the message; the whole report goes in a file beyond."""
MAX_FILE_BYTES = 20 * 1024 * 1024
_CAPTION = filters.CaptionRegex(rf"^/{IMPORT_COMMAND}(?:@\w+)?(?:\s|$)")
_PRUNE_WORDS = {"--prune", "prune", "supprimer"}
_OVERWRITE_WORDS = {"--overwrite", "overwrite", "ecraser", "écraser"}


def _options(words: list[str]) -> ImportOptions:
    lowered = {word.lower() for word in words}
    return ImportOptions(
        prune=bool(lowered & _PRUNE_WORDS), overwrite=bool(lowered & _OVERWRITE_WORDS)
    )


async def _download(message: Message) -> bytes:
    assert message.document is not None
    file = await message.get_bot().get_file(message.document.file_id)
    return bytes(await file.download_as_bytearray())


# --- /import --------------------------------------------------------------------------------


@staff_action("staff.import")
async def import_file(update: Update, context: Context) -> None:
    """A file with the caption /import: the dry-run report and a button to apply it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    document = message.document
    if document is None:
        await message.reply_text(import_usage())
        return
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await message.reply_text(_("This file is too big (20 MB at most)."))
        return
    runtime = get_runtime(context)
    options = _options(command_text(update).split())
    content = await _download(message)
    name = document.file_name or "familles.csv"
    report = await preview_import(
        runtime.database,
        runtime.structure,
        content,
        name,
        options,
        today=runtime.today(),
        now=runtime.now(),
        actor_id=user.id,
    )
    keyboard = None
    if not report.has_errors and report.plan is not None and report.plan.changes_anything:
        token = secrets.token_hex(4)
        drafts = _drafts(context)
        while len(drafts) >= MAX_DRAFTS:
            drafts.pop(next(iter(drafts)))
        drafts[token] = {
            "file_id": document.file_id,
            "name": name,
            "digest": report.digest,
            "prune": options.prune,
            "overwrite": options.overwrite,
        }
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("✅ Import"),
                        callback_data=callbacks.build(callbacks.STAFF_IMPORT, "yes", token),
                    ),
                    InlineKeyboardButton(
                        _("✖️ Cancel"),
                        callback_data=callbacks.build(callbacks.STAFF_IMPORT, "no", token),
                    ),
                ]
            ]
        )
    await message.reply_text(
        report_message(report, confirm=keyboard is not None), reply_markup=keyboard
    )
    await _send_report_files(message, report)


def import_usage() -> str:
    """How to send a file to import."""
    return _(
        "Send the file of the families (CSV or Excel .xlsx, one line per child) with the caption /import. "
        "Add --prune to remove the families and children it no longer names, --overwrite to take its values "
        "even where they changed since the last import. The template: portail-famille import template."
    )


def report_message(report: ImportReport, *, confirm: bool) -> str:
    """The report as a message: all of it when short, else its beginning and where the rest is."""
    lines = report_lines(report)
    text = "\n".join(lines)
    if not fits(text, MESSAGE_BUDGET):
        shown: list[str] = []
        for line in lines:
            if not fits("\n".join([*shown, line]), MESSAGE_BUDGET):
                break
            shown.append(line)
        text = "\n".join(shown) + "\n…\n" + _("The whole report is in the file below.")
    body = "📥 " + escape(text)
    if confirm:
        body += "\n\n" + _("Nothing has been written yet. Import this file?")
    elif report.plan is not None and not report.has_errors:
        body += "\n\n" + _("Nothing to change: the records already match this file.")
    return body


async def _send_report_files(message: Message, report: ImportReport) -> None:
    text = render_report(report)
    if not fits(text, MESSAGE_BUDGET):
        await message.reply_document(
            InputFile(text.encode("utf-8"), filename="rapport-import.txt"),
            caption=_("The import report."),
        )
    if report.parsed is not None and report.parsed.problems:
        await message.reply_document(
            InputFile(errors_csv(report.parsed.problems), filename="erreurs-import.csv"),
            caption=_("The errors, line by line, to correct in the file."),
        )


@staff_action("staff.import_confirm")
async def confirm_import(update: Update, context: Context) -> None:
    """✅ Import / ✖️ Cancel under a report; a report is confirmed once."""
    query, user = update.callback_query, update.effective_user
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None or user is None or not isinstance(query.message, Message):
        return
    draft = _drafts(context).pop(parsed.arg(1), None)
    if draft is None:
        await query.answer(_("This import was already applied or cancelled."), show_alert=True)
        return
    if parsed.arg(0) != "yes":
        await query.answer()
        await query.edit_message_text(_("Import cancelled: nothing was written."))
        return
    await query.answer(_("Importing…"))
    runtime = get_runtime(context)
    file = await context.bot.get_file(draft["file_id"])
    content = bytes(await file.download_as_bytearray())
    report = await apply_import(
        runtime.database,
        runtime.structure,
        content,
        draft["name"],
        ImportOptions(prune=bool(draft["prune"]), overwrite=bool(draft["overwrite"])),
        today=runtime.today(),
        now=runtime.now(),
        actor_id=user.id,
        expected_digest=draft["digest"],
    )
    await query.edit_message_text("📥 " + escape("\n".join(applied_lines(report))))


def applied_lines(report: ImportReport) -> list[str]:
    """What the confirmation did."""
    if report.outcome is not ImportOutcome.APPLIED:
        return report_lines(report)
    lines = summary_lines(report)
    conflicts = report.counts.get("conflicts", 0)
    if conflicts:
        lines.append(
            ngettext(
                "{count} value changed since the last import was kept.",
                "{count} values changed since the last import were kept.",
                conflicts,
            ).format(count=conflicts)
            if not report.options.overwrite
            else ngettext(
                "{count} value changed since the last import was overwritten.",
                "{count} values changed since the last import were overwritten.",
                conflicts,
            ).format(count=conflicts)
        )
    if report.counts.get("removed"):
        lines.append(_("Families removed: {count}.").format(count=report.counts["removed"]))
    lines.append(_("Next: print the invitation letters with /lettres."))
    return lines


def _drafts(context: Context) -> dict[str, dict[str, Any]]:
    chat_data = context.chat_data if context.chat_data is not None else {}
    drafts: dict[str, dict[str, Any]] = chat_data.setdefault(DRAFTS_KEY, {})  # chat_data holds Any
    return drafts


# --- /lettres --------------------------------------------------------------------------------


@staff_action("staff.letters")
async def letters(update: Update, context: Context) -> None:
    """/lettres [tous | N_FAMILLE…]: the invitation letters as one PDF."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    words = command_text(update).split()
    if words and words[0].lower() in ("tous", "toutes", "all"):
        selection, numbers = Selection.ALL, []
    elif words:
        selection, numbers = Selection.NAMED, words
    else:
        selection, numbers = Selection.UNLINKED, []
    runtime = get_runtime(context)
    username = runtime.settings.telegram_bot_username or context.bot.username
    batch = await issue_letters(
        runtime.database,
        selection=selection,
        numbers=numbers,
        bot_username=username,
        now=runtime.now(),
        tz=runtime.settings.tz,
        ttl_days=runtime.settings.invite_ttl_days,
        actor_id=user.id,
    )
    lines = []
    if batch.unknown:
        lines.append(
            _("No family has the number(s): {numbers}.").format(
                numbers=escape(", ".join(batch.unknown))
            )
        )
    if not batch.letters:
        lines.append(
            _(
                "No family to write to: every family has linked an account. /lettres tous for all of them."
            )
            if selection is Selection.UNLINKED
            else _("No letter to print.")
        )
        await message.reply_text("\n".join(lines))
        return
    # 2,000 pages take a minute of CPU: drawn beside the event loop, other chats go on meanwhile.
    pdf = await asyncio.to_thread(
        build_letters_pdf, batch.letters, runtime.structure, today=runtime.today()
    )
    lines.append(
        ngettext(
            "✉️ {count} invitation letter to print, valid until {date}.",
            "✉️ {count} invitation letters to print, valid until {date}.",
            len(batch.letters),
        ).format(count=len(batch.letters), date=format_short_date(batch.letters[0].expires_on))
    )
    if batch.retired:
        lines.append(
            ngettext(
                "{count} earlier invitation of these families no longer works.",
                "{count} earlier invitations of these families no longer work.",
                batch.retired,
            ).format(count=batch.retired)
        )
    await message.reply_document(
        InputFile(pdf, filename=letters_filename(runtime.today())), caption="\n".join(lines)
    )


# --- /export ---------------------------------------------------------------------------------


@staff_action("staff.export")
async def export(update: Update, context: Context) -> None:
    """/export YYYY-MM: the month's invoices and payments as CSV files."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    period = parse_month(command_text(update))
    if period is None:
        await message.reply_text(_("Usage: /export YYYY-MM (for example /export 2026-11)."))
        return
    runtime = get_runtime(context)
    result = await month_export(runtime.database, period, now=runtime.now(), actor_id=user.id)
    await message.reply_document(
        InputFile(invoices_csv(result), filename=invoices_filename(result)),
        caption=ngettext(
            "🧾 {count} invoice of {month}, total {amount} (one line per invoice line).",
            "🧾 {count} invoices of {month}, total {amount} (one line per invoice line).",
            len(result.invoices),
        ).format(
            count=len(result.invoices), month=period.code, amount=format_money(result.invoiced)
        ),
    )
    await message.reply_document(
        InputFile(payments_csv(result), filename=payments_filename(result)),
        caption=ngettext(
            "💶 {count} payment recorded in {month}, total {amount}.",
            "💶 {count} payments recorded in {month}, total {amount}.",
            len(result.payments),
        ).format(count=len(result.payments), month=period.code, amount=format_money(result.paid)),
    )


# --- notices to the staff group --------------------------------------------------------------


@template(TEMPLATE_APPLIED)
async def _import_applied(runtime: Runtime, params: dict[str, Any]) -> Outgoing:
    counts = params.get("counts", {})
    return Outgoing(
        "📥 "
        + _(
            "Families imported from the command line ({source}): {created} created, {updated} updated, "
            "{unchanged} unchanged."
        ).format(
            source=escape(params.get("source", "")),
            created=counts.get("created", 0),
            updated=counts.get("updated", 0),
            unchanged=counts.get("unchanged", 0),
        )
    )


@template(TEMPLATE_ISSUED)
async def _letters_issued(runtime: Runtime, params: dict[str, Any]) -> Outgoing:
    return Outgoing(
        "✉️ "
        + _(
            "Invitation letters issued from the command line for {count} family(ies); "
            "their earlier invitations no longer work."
        ).format(count=params.get("families", 0))
    )


def build_handlers() -> list[AnyHandler]:
    """/import (a file with that caption, or the command alone for help), its buttons, /lettres, /export."""
    return [
        MessageHandler(filters.Document.ALL & _CAPTION, import_file),
        CommandHandler(IMPORT_COMMAND, import_file),
        CallbackQueryHandler(confirm_import, pattern=callbacks.pattern(callbacks.STAFF_IMPORT)),
        CommandHandler("lettres", letters),
        CommandHandler("export", export),
    ]


__all__ = ["build_handlers", "import_usage", "report_message"]
