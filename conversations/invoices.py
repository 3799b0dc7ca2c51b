"""An invoice's buttons (its PDF, paying it online with Telegram Payments) and its "new invoice" message.

Every button carries an invoice id from the client: the service checks it belongs to the
tapping user's family, and a forged one is refused and audited. Online payment exists only
when the structure enables it and a provider token is set; a successful payment is recorded
once even if Telegram delivers the update twice (its charge id is unique).

"A new invoice is available" is the outbox template `billing.invoice_issued` ({"invoice_id",
"account"}), queued with the invoice by `bot.services.billing.issue_invoices`.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice, Update
from telegram.ext import (
    CallbackQueryHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bot import callbacks
from bot.domain.model import PaymentMethod
from bot.i18n import N_, _, format_money, format_short_date
from bot.outgoing import Outgoing, Params, template
from bot.pdfs import build_invoice_pdf, invoice_filename
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services.billing import TEMPLATE_INVOICE_ISSUED
from bot.services.payments import CURRENCY, OnlineOutcome, cents_to_amount, payload_for, to_cents
from bot.services.statement import (
    NewInvoice,
    invoice_pdf,
    new_invoice,
    online_payment_check,
    pre_checkout_check,
    record_telegram_payment,
)
from bot.telegram_text import cut
from conversations.common import Context, answer_query, escape, parent_handler, user_id_of

logger = logging.getLogger(__name__)

INVOICE_TITLE_LIMIT = 32
INVOICE_DESCRIPTION_LIMIT = 255
"""What sendInvoice accepts, measured as Telegram counts (UTF-16 units)."""

METHOD_LABELS: dict[PaymentMethod, str] = {
    PaymentMethod.CHEQUE: N_("Cheque"),
    PaymentMethod.CASH: N_("Cash"),
    PaymentMethod.CESU: N_("CESU"),
    PaymentMethod.DIRECT_DEBIT: N_("Direct debit"),
    PaymentMethod.CARD: N_("Bank card"),
    PaymentMethod.TITRE: N_("Titre émis (Trésor public)"),
    PaymentMethod.ONLINE: N_("Online payment"),
}


def method_label(method: PaymentMethod) -> str:
    """The seed's name of a payment method, translated."""
    return _(METHOD_LABELS[method])


def online_payment_enabled(runtime: Runtime) -> bool:
    """Whether parents may pay online: the structure enables it and a provider token is set."""
    return runtime.structure.online_payment and bool(runtime.settings.payment_provider_token)


def how_to_pay_text(runtime: Runtime) -> str:
    """What the statement says when online payment is not offered (as the seeds do)."""
    text = _("Online payment is not available.")
    if runtime.structure.payment_instructions:
        text += " " + escape(runtime.structure.payment_instructions)
    return "ℹ️ " + text


def invoice_buttons(
    invoice_id: int, number: str, *, payable: bool, online: bool
) -> list[InlineKeyboardButton]:
    """The PDF button of an invoice and, when it can be paid online now, its "Payer" button."""
    buttons = [
        InlineKeyboardButton(
            _("📄 {number} (PDF)").format(number=number),
            callback_data=callbacks.build(callbacks.INVOICE_PDF, invoice_id),
        )
    ]
    if payable and online:
        buttons.append(
            InlineKeyboardButton(
                _("💳 Pay {number}").format(number=number),
                callback_data=callbacks.build(callbacks.INVOICE_PAY, invoice_id),
            )
        )
    return buttons


@parent_handler(answers_itself=True)
async def send_invoice_pdf(update: Update, context: Context) -> None:
    """The PDF button: send the invoice as a document, if it is the family's."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        await answer_query(update, _("This button is no longer valid."))
        return
    runtime = get_runtime(context)
    document = await invoice_pdf(
        runtime.database, user_id_of(update), parsed.int_arg(0) or 0, now=runtime.now()
    )
    if document is None:
        await answer_query(update, _("This invoice is not available."), show_alert=True)
        return
    await answer_query(update)
    pdf = build_invoice_pdf(
        document, runtime.structure, online_payment=online_payment_enabled(runtime)
    )
    chat = update.effective_chat
    if chat is not None:
        await chat.send_document(
            document=pdf,
            filename=invoice_filename(document.number),
            caption=_("Invoice {number} — {amount}, due {due}").format(
                number=escape(document.number),
                amount=format_money(document.total),
                due=format_short_date(document.due_on),
            ),
        )


@parent_handler(answers_itself=True)
async def start_online_payment(update: Update, context: Context) -> None:
    """The "Payer" button: a Telegram invoice for what remains due."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    chat = update.effective_chat
    if parsed is None or chat is None:
        await answer_query(update, _("This button is no longer valid."))
        return
    runtime = get_runtime(context)
    check = await online_payment_check(
        runtime.database, user_id_of(update), parsed.int_arg(0) or 0, now=runtime.now()
    )  # first: an account no longer linked is told so, whatever the structure offers
    if not online_payment_enabled(runtime):
        await answer_query(update, _("Online payment is not available."), show_alert=True)
        return
    if check.outcome is OnlineOutcome.NOT_YOURS:
        await answer_query(update, _("This invoice is not available."), show_alert=True)
        return
    if check.outcome is OnlineOutcome.ALREADY_PAID:
        await answer_query(update, _("This invoice is already paid."), show_alert=True)
        return
    assert (
        check.amount is not None
        and check.invoice_id is not None
        and check.period_start
        and check.period_end
    )
    await answer_query(update)
    title = _("Invoice {number}").format(number=check.number)
    await context.bot.send_invoice(
        chat_id=chat.id,
        title=cut(title, INVOICE_TITLE_LIMIT),
        description=cut(
            _("{structure} — services from {start} to {end}").format(
                structure=runtime.structure.name,
                start=format_short_date(check.period_start),
                end=format_short_date(check.period_end),
            ),
            INVOICE_DESCRIPTION_LIMIT,
        ),
        payload=payload_for(check.invoice_id),
        provider_token=runtime.settings.payment_provider_token,
        currency=CURRENCY,
        prices=[LabeledPrice(title, to_cents(check.amount))],
    )


async def answer_pre_checkout(update: Update, context: Context) -> None:
    """Telegram asks before charging: the invoice must be the payer's and still due that much."""
    query = update.pre_checkout_query
    if query is None:
        return
    runtime = get_runtime(context)
    check = await pre_checkout_check(
        runtime.database,
        user_id=query.from_user.id,
        payload=query.invoice_payload,
        currency=query.currency,
        total_amount=query.total_amount,
        now=runtime.now(),
    )
    if check.outcome is OnlineOutcome.OK:
        await query.answer(ok=True)
        return
    reasons = {
        OnlineOutcome.NOT_YOURS: _("This invoice is not available."),
        OnlineOutcome.ALREADY_PAID: _("This invoice is already paid."),
        OnlineOutcome.AMOUNT_CHANGED: _(
            "The amount due has changed: open the invoice again from your account statement."
        ),
    }
    await query.answer(
        ok=False, error_message=reasons.get(check.outcome, _("This invoice is not available."))
    )


async def record_successful_payment(update: Update, context: Context) -> None:
    """Telegram took the money: record it once and thank the parent (a repeat stays silent)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.successful_payment is None:
        return
    paid = message.successful_payment
    runtime = get_runtime(context)
    result = await record_telegram_payment(
        runtime.database,
        user_id=user.id,
        payload=paid.invoice_payload,
        total_amount=paid.total_amount,
        charge_id=paid.telegram_payment_charge_id,
        provider_charge_id=paid.provider_payment_charge_id,
        today=runtime.today(),
        now=runtime.now(),
    )
    if result.outcome is OnlineOutcome.DUPLICATE:
        logger.info(
            "payment update delivered again, already recorded: payment %s", result.payment_number
        )
        return
    if result.outcome is not OnlineOutcome.RECORDED:
        logger.warning("successful payment with an unknown invoice payload (user %s)", user.id)
        await message.reply_text(
            _("Your payment was received. The structure will allocate it to your account.")
        )
        return
    lines = [
        _(
            "✅ Thank you! Your payment of {amount} for invoice {number} is recorded (no. {payment})."
        ).format(
            amount=format_money(cents_to_amount(paid.total_amount)),
            number=escape(result.number or ""),
            payment=escape(result.payment_number or ""),
        )
    ]
    if result.amount is not None and result.amount > 0:
        lines.append(
            _("Still due on this invoice: {amount}.").format(amount=format_money(result.amount))
        )
    await message.reply_text("\n".join(lines))


# --- "a new invoice is available" ----------------------------------------------------------


def new_invoice_text(invoice: NewInvoice) -> str:
    """ "A new invoice is available", in the current language."""
    return _(
        "📄 <b>A new invoice is available</b>\n"
        "Invoice {number} for {start} – {end}: <b>{amount}</b>, to be paid by {due}."
    ).format(
        number=escape(invoice.number),
        start=format_short_date(invoice.period_start),
        end=format_short_date(invoice.period_end),
        amount=format_money(invoice.total),
        due=format_short_date(invoice.due_on),
    )


@template(TEMPLATE_INVOICE_ISSUED)
async def _invoice_issued(runtime: Runtime, params: Params) -> Outgoing | None:
    """The new invoice with its PDF (and "Payer" while it can be paid online); None once the
    account is no longer linked to the invoice's family."""
    invoice = await new_invoice(runtime.database, int(params["invoice_id"]), int(params["account"]))
    if invoice is None:
        return None
    buttons = invoice_buttons(
        invoice.invoice_id,
        invoice.number,
        payable=invoice.due > 0,
        online=online_payment_enabled(runtime),
    )
    return Outgoing(new_invoice_text(invoice), InlineKeyboardMarkup([buttons]))


def build_handlers() -> list[AnyHandler]:
    """The invoice buttons and Telegram Payments' updates."""
    return [
        CallbackQueryHandler(send_invoice_pdf, pattern=callbacks.pattern(callbacks.INVOICE_PDF)),
        CallbackQueryHandler(
            start_online_payment, pattern=callbacks.pattern(callbacks.INVOICE_PAY)
        ),
        PreCheckoutQueryHandler(answer_pre_checkout),
        MessageHandler(filters.SUCCESSFUL_PAYMENT, record_successful_payment),
    ]
