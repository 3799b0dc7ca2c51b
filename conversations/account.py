"""Mon compte: the fiche famille, its five blocks, and "Demander une modification" for each.

The overview shows the responsable, the conjoint, the fiscal and CAF information and the bank
details (IBAN masked but for its last digits); each block opens on its own with every field, the
changes already asked ("Demandes de modifications en cours") and the button that opens its form.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.domain import forms
from bot.domain.forms import Form
from bot.domain.validators import mask_iban
from bot.family_texts import display_value, yes_no
from bot.i18n import _, ngettext
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services import family_requests
from bot.services.family_requests import AccountBlock
from bot.services.home import FamilyRecord
from bot.telegram_text import fits
from conversations.common import TAB_ACCOUNT, Context, escape, parent_handler, show, user_id_of
from conversations.forms import State, step
from conversations.requests_list import render_request_line
from storage.models import Guardian

MAX_BLOCK_TEXT = 3900
"""A block's screen at most (Telegram's units), room kept for the hint of what is not shown."""

# Block code -> its form.
BLOCKS: dict[str, Form] = {
    "r": forms.RESPONSABLE,
    "c": forms.CONJOINT,
    "f": forms.FISCAL,
    "a": forms.CAF,
    "b": forms.BANK,
}


def _block_label(code: str) -> str:
    labels = {
        "r": _("👤 Responsable information"),
        "c": _("👥 Spouse information"),
        "f": _("🧾 Tax information"),
        "a": _("🏛 CAF information"),
        "b": _("🏦 Bank details"),
    }
    return labels[code]


def render_account(record: FamilyRecord) -> str:
    """The overview of the fiche famille (Mon compte)."""
    family = record.family
    lines = [_("👤 <b>My account</b> — family number {number}").format(number=family.number), ""]
    lines += _guardian_summary(_("Responsable"), record.responsable)
    lines += ["", *_guardian_summary(_("Spouse / partner"), record.conjoint)]
    fiscal = forms.current_values(forms.FISCAL, family)
    caf = forms.current_values(forms.CAF, family)
    lines += [
        "",
        _("<b>Tax information</b>: scheme {regime}").format(
            regime=escape(display_value(forms.FISCAL.field("regime"), fiscal["regime"]))
        ),
        _(
            "<b>CAF information</b>: allocataire no. {number}, {children}, quotient familial {qf}"
        ).format(
            number=escape(caf["caf_number"] or "—"),
            children=_children_count(caf["caf_children_count"]),
            qf=escape(
                display_value(forms.CAF.field("quotient_familial"), caf["quotient_familial"])
            ),
        ),
        _("<b>Bank details</b>: account holder {holder}, IBAN {iban}, direct debit {debit}").format(
            holder=escape(family.account_holder or "—"),
            iban=escape(mask_iban(family.iban) or "—"),
            debit=yes_no(family.direct_debit),
        ),
        "",
        _("⚠️ Please check the email address of the responsable: invoices are sent to it."),
        _("Tap a block to see it in full and ask for a change."),
    ]
    return "\n".join(lines)


def _guardian_summary(title: str, guardian: Guardian | None) -> list[str]:
    if guardian is None:
        return [f"<b>{escape(title)}</b>: —"]
    address = " ".join(
        part for part in (guardian.address, guardian.postal_code, guardian.city) if part
    )
    phones = ", ".join(
        p for p in (guardian.phone_mobile, guardian.phone_home, guardian.phone_work) if p
    )
    name = " ".join(
        part for part in (guardian.civility, guardian.first_name, guardian.last_name) if part
    )
    return [
        f"<b>{escape(title)}</b>: {escape(name)}",
        _("Address: {address}").format(address=escape(address or "—")),
        _("Phones: {phones}").format(phones=escape(phones or "—")),
        _("Email: {email}").format(email=escape(guardian.email or "—")),
    ]


def account_keyboard() -> InlineKeyboardMarkup:
    """The five blocks, the requests and home."""
    rows = [
        [
            InlineKeyboardButton(
                _block_label(code), callback_data=callbacks.build(callbacks.ACCOUNT, code)
            )
        ]
        for code in BLOCKS
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("📋 My requests"), callback_data=callbacks.build(callbacks.REQUEST_LIST, "all", 1)
            ),
            InlineKeyboardButton(
                _("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME)
            ),
        ]
    )
    return InlineKeyboardMarkup(rows)


@parent_handler
async def show_account(update: Update, context: Context) -> State | None:
    """The Mon compte tab."""
    record = await family_requests.account_overview(
        get_runtime(context).database, user_id_of(update)
    )
    await show(update, render_account(record), account_keyboard())
    return None


@parent_handler
async def show_block(update: Update, context: Context) -> State | None:
    """One block of the fiche famille, with its pending changes and its form's button (any
    other code, as the "◀ My account" button's, shows the overview)."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    code = parsed.arg(0) if parsed else ""
    runtime = get_runtime(context)
    if code not in BLOCKS:
        record = await family_requests.account_overview(runtime.database, user_id_of(update))
        await show(update, render_account(record), account_keyboard())
        return None
    block = await family_requests.account_block(runtime.database, user_id_of(update), BLOCKS[code])
    await show(update, render_block(code, block, runtime.settings.tz), block_keyboard(code, block))
    return None


def _children_count(value: str) -> str:
    """ "2 enfants", "1 enfant" (the count is known: no "enfant(s)")."""
    if not value.isdigit():
        return _("children: —")
    count = int(value)
    return ngettext("{count} child", "{count} children", count).format(count=count)


def render_block(code: str, block: AccountBlock, tz: dt.tzinfo) -> str:
    """A block's every field (bank details masked) and the changes asked, not yet processed."""
    lines = [f"<b>{escape(_block_label(code))}</b>", ""]
    if not block.recorded:
        lines.append(_("No spouse or partner is recorded."))
    else:
        for item in block.form.fields:
            lines.append(
                _("{label}: {value}").format(
                    label=escape(_(item.label)),
                    value=f"{escape(display_value(item, block.current[item.key], masked=True))}",
                )
            )
    if block.pending:
        lines += ["", _("<b>Changes asked, not yet processed</b>")]
        for index, pending in enumerate(block.pending):
            line = render_request_line(pending, tz, with_decision=False)
            if not fits("\n".join([*lines, line]), MAX_BLOCK_TEXT):
                # The others are in the Liste des demandes (paged), one tap away on this screen.
                left = len(block.pending) - index
                lines.append(_("… and {count} more: see 📋 My requests.").format(count=left))
                break
            lines.append(line)
    return "\n".join(lines)


def block_keyboard(code: str, block: AccountBlock) -> InlineKeyboardMarkup:
    """Ask for a change (or declare a spouse), back to the account, home."""
    ask = _("✏️ Ask for a change") if block.recorded else _("➕ Declare a spouse or partner")
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ask, callback_data=callbacks.build(callbacks.FORM_START, block.form.code, 0)
                )
            ],
            [
                InlineKeyboardButton(
                    _("📋 My requests"),
                    callback_data=callbacks.build(callbacks.REQUEST_LIST, "all", 1),
                )
            ],
            [
                InlineKeyboardButton(
                    _("◀ My account"), callback_data=callbacks.build(callbacks.ACCOUNT, "m")
                ),
                InlineKeyboardButton(
                    _("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME)
                ),
            ],
        ]
    )


def build_handlers() -> list[AnyHandler]:
    """The tab and its buttons (steps of the family conversation)."""
    return [
        CallbackQueryHandler(step(show_account), pattern=rf"^{callbacks.MENU}:{TAB_ACCOUNT}$"),
        CallbackQueryHandler(step(show_block), pattern=callbacks.pattern(callbacks.ACCOUNT)),
    ]
