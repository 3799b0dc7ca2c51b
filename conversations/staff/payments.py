"""Staff commands for money, in the admin group: issue a month's invoices, record a payment.

    /facturer novembre
    /paiement 1001001818331 120,60 chèque AL-36
    /paiement DUPONT 45,50 chèque
    /annuler_paiement AL-230

Each is guarded by `staff_action` (staff only, in the admin group or a private chat, French in
the group), and safe to repeat: issuing a month twice changes nothing, and a re-delivered
/paiement message records one payment. The family of /paiement is a N° famille or a name, with
a choice when several families match (`conversations.staff.family_pick`). Each calls one
service, which audits it; the "new invoice" messages the service queues are rendered by
`conversations.invoices`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.domain.account import (
    PAYMENT_METHOD_WORDS,
    PaymentWarning,
    parse_amount,
    parse_payment_method,
)
from bot.domain.billing import BillingPeriod
from bot.domain.model import PaymentMethod
from bot.domain.staff_input import parse_month_words
from bot.i18n import _, babel_locale, format_money
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services.billing import IssueOutcome, IssueResult, MissingTariff, issue_invoices
from bot.services.payments import (
    CancelOutcome,
    PaymentOutcome,
    PaymentResult,
    cancel_payment,
    record_payment,
)
from conversations.common import answer_query, escape
from conversations.input_errors import month_error, unknown_choice_error
from conversations.invoices import method_label
from conversations.staff.common import Context, staff_action
from conversations.staff.family_pick import family_argument, register_pick
from conversations.usages import usage

ISSUE_COMMAND = "facturer"
PAYMENT_COMMAND = "paiement"
CANCEL_PAYMENT_COMMAND = "annuler_paiement"


def month_label(period: BillingPeriod) -> str:
    """ "novembre 2026"."""
    return format_date(period.start, "MMMM yyyy", locale=babel_locale())


@staff_action("invoices.issue")
async def issue_command(update: Update, context: Context) -> None:
    """/facturer novembre (or 2026-11): issue the month's invoices and tell the families."""
    message, user = update.effective_message, update.effective_user
    runtime = get_runtime(context)
    if message is None or user is None:
        return
    typed = " ".join(context.args or [])
    month = parse_month_words(typed, runtime.today()) if typed else None
    period = BillingPeriod.month(*month) if month is not None else None
    if period is None:
        await message.reply_text(
            month_error(typed) + "\n\n" + usage("facturer") if typed else usage("facturer")
        )
        return
    try:
        result = await issue_invoices(
            runtime.database,
            runtime.structure,
            period,
            today=runtime.today(),
            now=runtime.now(),
            actor_telegram_id=user.id,
            actor_kind="staff",
        )
    except MissingTariff as exc:
        await message.reply_text(
            _(
                "The service {code} has no tariffs in the structure file: nothing was invoiced."
            ).format(code=escape(exc.args[0]))
        )
        return
    if result.outcome is IssueOutcome.MONTH_NOT_OVER:
        await message.reply_text(
            _("{month} is not over yet: it can be invoiced from the 1st of next month.").format(
                month=month_label(period).capitalize()
            )
        )
        return
    await message.reply_text(render_issue_result(result))


def render_issue_result(result: IssueResult) -> str:
    """The staff's summary of an invoicing run."""
    lines = [_("🧾 <b>Invoices of {month}</b>").format(month=month_label(result.period))]
    if result.issued:
        lines.append(
            _("{count} invoice(s) issued ({first} to {last}), total {amount}.").format(
                count=len(result.issued),
                first=escape(result.issued[0].number),
                last=escape(result.issued[-1].number),
                amount=format_money(result.total),
            )
        )
    else:
        lines.append(_("No new invoice."))
    if result.already_issued:
        lines.append(
            _("{count} invoice(s) had already been issued for this month: unchanged.").format(
                count=result.already_issued
            )
        )
    if result.undecided_absences:
        lines.append(
            _(
                "{count} late absence(s) still awaiting your decision were billed as “absent facturé”."
            ).format(count=result.undecided_absences)
        )
    if result.issued:
        lines.append(
            _("Families told: {count} message(s) on their way to the linked accounts.").format(
                count=result.notices
            )
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class TypedPayment:
    """What follows the family in /paiement: the amount, the method, the invoice if any."""

    amount: Decimal
    method: PaymentMethod
    invoice_number: str | None


def split_payment_words(words: list[str]) -> tuple[str, list[str]] | None:
    """The family (a N° famille or a name, one or more words) and the words from the amount
    on: the family ends before the first word that is an amount ("DUPONT 45,50 chèque")."""
    for index in range(1, len(words)):
        if parse_amount(words[index]) is not None:
            return " ".join(words[:index]), words[index:]
    return None


def parse_payment_words(words: list[str]) -> TypedPayment | str:
    """`AMOUNT METHOD [INVOICE]` (a method may take two words: "titre émis"), or the error."""
    amount = parse_amount(words[0]) if words else None
    if amount is None or len(words) < 2:
        return payment_usage()
    rest = words[1:]
    if (
        len(rest) >= 2
        and parse_payment_method(" ".join(rest[:2]))
        and not parse_payment_method(rest[1])
    ):
        rest = [" ".join(rest[:2]), *rest[2:]]
    method = parse_payment_method(rest[0])
    if method is None:
        return (
            unknown_choice_error(_("mode"), rest[0], list(PAYMENT_METHOD_WORDS))
            + "\n\n"
            + payment_usage()
        )
    if len(rest) > 2:
        return payment_usage()
    return TypedPayment(amount, method, rest[1] if len(rest) == 2 else None)


@staff_action("payment.record")
async def payment_command(update: Update, context: Context) -> None:
    """/paiement FAMILLE MONTANT MODE [N_FACTURE]: record a payment received by the structure."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    split = split_payment_words(list(context.args or []))
    typed = parse_payment_words(split[1]) if split is not None else payment_usage()
    if split is None or isinstance(typed, str):
        await message.reply_text(typed if isinstance(typed, str) else payment_usage())
        return
    who, words = split
    number = await family_argument(update, context, PAYMENT_COMMAND, who, " ".join(words))
    if number is not None:
        await _record_typed(
            update, context, number, typed, f"telegram:{chat.id}:{message.message_id}"
        )


async def _picked_family(update: Update, context: Context, number: str, rest: str) -> None:
    """The family chosen among several of that name: the payment typed is recorded for it."""
    message, chat = update.effective_message, update.effective_chat
    typed = parse_payment_words(rest.split())
    if message is None or chat is None or isinstance(typed, str):
        return
    # The choice message stands for the command: one choice is offered per /paiement.
    await _record_typed(update, context, number, typed, f"telegram:{chat.id}:{message.message_id}")


register_pick(PAYMENT_COMMAND, _picked_family)


async def _record_typed(
    update: Update, context: Context, number: str, typed: TypedPayment, reference: str
) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    runtime = get_runtime(context)
    draft: dict[str, str | None] = {
        "family_number": number,
        "amount": str(typed.amount),
        "method": typed.method.value,
        "invoice_number": typed.invoice_number,
        "reference": reference,
    }
    result = await _record(runtime, draft, user.id, confirmed=False)
    if result.outcome is PaymentOutcome.NEEDS_CONFIRMATION:
        drafts = (
            context.chat_data.setdefault(PAYMENT_DRAFTS_KEY, {})
            if context.chat_data is not None
            else {}
        )
        while len(drafts) >= MAX_PAYMENT_DRAFTS:
            drafts.pop(next(iter(drafts)))
        token = secrets.token_hex(4)
        drafts[token] = draft
        await message.reply_text(
            render_payment_warning(result), reply_markup=_confirm_keyboard(token)
        )
        return
    await message.reply_text(render_payment_result(result, number, typed.invoice_number))


PAYMENT_DRAFTS_KEY = "payment_drafts"
"""chat_data key: {token: the /paiement waiting for staff's confirmation} (persisted)."""
MAX_PAYMENT_DRAFTS = 20


async def _record(
    runtime: Runtime, draft: dict[str, str | None], staff_id: int, *, confirmed: bool
) -> PaymentResult:
    return await record_payment(
        runtime.database,
        family_number=str(draft["family_number"]),
        amount=Decimal(str(draft["amount"])),
        method=PaymentMethod(str(draft["method"])),
        invoice_number=draft["invoice_number"],
        paid_on=runtime.today(),
        staff_id=staff_id,
        reference=str(draft["reference"]),
        now=runtime.now(),
        confirmed=confirmed,
    )


def _confirm_keyboard(token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("✅ Record it anyway"),
                    callback_data=callbacks.build(callbacks.STAFF_PAYMENT, "yes", token),
                ),
                InlineKeyboardButton(
                    _("✖️ Cancel"),
                    callback_data=callbacks.build(callbacks.STAFF_PAYMENT, "no", token),
                ),
            ]
        ]
    )


def render_payment_warning(result: PaymentResult) -> str:
    """Why a /paiement waits for confirmation: an invoice already paid, or more than is due."""
    assert result.amount is not None and result.due is not None
    if result.warning is PaymentWarning.ALREADY_PAID:
        head = _(
            "⚠️ Invoice {invoice} is already paid: this payment of {amount} would be recorded twice."
        ).format(invoice=escape(result.invoice_number or ""), amount=format_money(result.amount))
    elif result.invoice_number is not None:
        head = _("⚠️ {amount} is more than the {due} still due on invoice {invoice}.").format(
            amount=format_money(result.amount),
            due=format_money(result.due),
            invoice=escape(result.invoice_number),
        )
    else:
        head = _("⚠️ {amount} is more than the {due} due by family {family} ({name}).").format(
            amount=format_money(result.amount),
            due=format_money(result.due),
            family=escape(result.family_number or ""),
            name=escape(result.family_name or ""),
        )
    return head + "\n" + _("Nothing is recorded yet. Record it anyway?")


@staff_action("payment.record")
async def payment_confirm(update: Update, context: Context) -> None:
    """✅ / ✖️ under a /paiement that needed confirmation; a draft is used once."""
    query, user = update.callback_query, update.effective_user
    parsed = callbacks.parse(query.data if query else None)
    runtime = get_runtime(context)
    if query is None or user is None or parsed is None:
        return
    drafts = context.chat_data.get(PAYMENT_DRAFTS_KEY, {}) if context.chat_data is not None else {}
    draft = drafts.pop(parsed.arg(1), None)
    if draft is None:
        await answer_query(
            update, _("This payment was already recorded or cancelled."), show_alert=True
        )
        return
    await answer_query(update)
    if parsed.arg(0) != "yes":
        await query.edit_message_text(_("Payment not recorded."))
        return
    result = await _record(runtime, draft, user.id, confirmed=True)
    await query.edit_message_text(
        render_payment_result(result, str(draft["family_number"]), draft["invoice_number"])
    )


@staff_action("payment.cancel")
async def cancel_payment_command(update: Update, context: Context) -> None:
    """/annuler_paiement N_REGLEMENT: remove a payment recorded by mistake (audited)."""
    message, user = update.effective_message, update.effective_user
    runtime = get_runtime(context)
    if message is None or user is None:
        return
    args = list(context.args or [])
    if len(args) != 1:
        await message.reply_text(usage("annuler_paiement"))
        return
    result = await cancel_payment(runtime.database, args[0], staff_id=user.id, now=runtime.now())
    if result.outcome is CancelOutcome.UNKNOWN_PAYMENT:
        await message.reply_text(
            _("No payment has the number {number}: nothing cancelled.").format(
                number=escape(args[0])
            )
        )
    elif result.outcome is CancelOutcome.ONLINE_PAYMENT:
        await message.reply_text(
            _(
                "Payment {number} was made online: it cannot be cancelled here (refund it through the payment provider)."
            ).format(number=escape(result.number))
        )
    else:
        assert (
            result.amount is not None and result.method is not None and result.balance is not None
        )
        lines = [
            _("↩️ Payment {number} cancelled: {amount} ({method}) for family {family}.").format(
                number=escape(result.number),
                amount=format_money(result.amount),
                method=method_label(result.method),
                family=escape(result.family_number or ""),
            ),
            _("Account balance: {amount}.").format(amount=format_money(result.balance)),
        ]
        await message.reply_text("\n".join(lines))


def payment_usage() -> str:
    """How to write /paiement."""
    return usage("paiement")


def render_payment_result(
    result: PaymentResult, family_number: str, invoice_number: str | None
) -> str:
    """The staff's answer to /paiement."""
    if result.outcome is PaymentOutcome.DUPLICATE:
        return _("This payment was already recorded (no. {number}).").format(
            number=escape(result.number or "")
        )
    if result.outcome is PaymentOutcome.UNKNOWN_FAMILY:
        return _("No family has the number {number}.").format(number=escape(family_number))
    if result.outcome is PaymentOutcome.UNKNOWN_INVOICE:
        return _(
            "Invoice {invoice} is not an invoice of family {number}: nothing recorded."
        ).format(invoice=escape(invoice_number or ""), number=escape(family_number))
    assert result.amount is not None and result.method is not None and result.balance is not None
    lines = [
        _("✅ Payment {number} recorded: {amount} ({method}) for family {family} ({name}).").format(
            number=escape(result.number or ""),
            amount=format_money(result.amount),
            method=method_label(result.method),
            family=escape(result.family_number or ""),
            name=escape(result.family_name or ""),
        )
    ]
    if result.invoice_number is not None and result.invoice_due is not None:
        if result.invoice_due > 0:
            lines.append(
                _("Invoice {invoice}: still due {amount}.").format(
                    invoice=escape(result.invoice_number), amount=format_money(result.invoice_due)
                )
            )
        else:
            lines.append(
                _("Invoice {invoice}: paid.").format(invoice=escape(result.invoice_number))
            )
    lines.append(_("Account balance: {amount}.").format(amount=format_money(result.balance)))
    return "\n".join(lines)


def build_handlers() -> list[AnyHandler]:
    """/facturer, /paiement, its confirmation buttons, /annuler_paiement."""
    return [
        CommandHandler(ISSUE_COMMAND, issue_command),
        CommandHandler(PAYMENT_COMMAND, payment_command),
        CommandHandler(CANCEL_PAYMENT_COMMAND, cancel_payment_command),
        CallbackQueryHandler(payment_confirm, pattern=callbacks.pattern(callbacks.STAFF_PAYMENT)),
    ]
