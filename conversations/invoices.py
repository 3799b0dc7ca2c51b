"""An invoice's buttons: its PDF, paying it online (Telegram Payments), and new-invoice notices.

Every button carries an invoice id from the client: the service checks it belongs to the
tapping user's family, and a forged one is refused and audited. Online payment exists only
when the structure enables it and a provider token is set; a successful payment is recorded
once even if Telegram delivers the update twice (its charge id is unique).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, PreCheckoutQueryHandler, filters

from bot import callbacks
from bot.domain.model import PaymentMethod
from bot.i18n import N_, _, format_money, format_short_date, use_language
from bot.pdfs import build_invoice_pdf, invoice_filename
from bot.runtime import Runtime, get_runtime
from bot.services.billing import InvoiceNotice, invoice_document, mark_notice_sent, pending_invoice_notices
from bot.services.payments import (
    CURRENCY,
    OnlineOutcome,
    cents_to_amount,
    check_online_payment,
    payload_for,
    record_online_payment,
    to_cents,
    validate_pre_checkout,
)
from conversations.common import Context, escape, linked_family

logger = logging.getLogger(__name__)

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


def invoice_buttons(invoice_id: int, number: str, *, payable: bool, online: bool) -> list[InlineKeyboardButton]:
    """The PDF button of an invoice and, when it can be paid online now, its "Payer" button."""
    buttons = [
        InlineKeyboardButton(
            _("📄 {number} (PDF)").format(number=number), callback_data=callbacks.build(callbacks.INVOICE_PDF, invoice_id)
        )
    ]
    if payable and online:
        buttons.append(
            InlineKeyboardButton(
                _("💳 Pay {number}").format(number=number), callback_data=callbacks.build(callbacks.INVOICE_PAY, invoice_id)
            )
        )
    return buttons


async def send_invoice_pdf(update: Update, context: Context) -> None:
    """The PDF button: send the invoice as a document, if it is the family's."""
    query, user = update.callback_query, update.effective_user
    parsed = callbacks.parse(query.data if query else None)
    if query is None or user is None or parsed is None:
        return
    family_id = await linked_family(update, context)
    if family_id is None:
        return
    invoice_id = parsed.int_arg(0)
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        document = await invoice_document(uow, family_id, invoice_id or 0, actor_telegram_id=user.id, now=runtime.now())
        await uow.commit()
    if document is None:
        await query.answer(_("This invoice is not available."), show_alert=True)
        return
    await query.answer()
    pdf = build_invoice_pdf(document, runtime.structure, online_payment=online_payment_enabled(runtime))
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


async def start_online_payment(update: Update, context: Context) -> None:
    """The "Payer" button: a Telegram invoice for what remains due."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    parsed = callbacks.parse(query.data if query else None)
    if query is None or user is None or chat is None or parsed is None:
        return
    family_id = await linked_family(update, context)
    if family_id is None:
        return
    runtime = get_runtime(context)
    if not online_payment_enabled(runtime):
        await query.answer(_("Online payment is not available."), show_alert=True)
        return
    async with runtime.database.unit_of_work() as uow:
        check = await check_online_payment(uow, family_id, parsed.int_arg(0) or 0, actor_telegram_id=user.id, now=runtime.now())
        await uow.commit()
    if check.outcome is OnlineOutcome.NOT_YOURS:
        await query.answer(_("This invoice is not available."), show_alert=True)
        return
    if check.outcome is OnlineOutcome.ALREADY_PAID:
        await query.answer(_("This invoice is already paid."), show_alert=True)
        return
    assert check.amount is not None and check.invoice_id is not None and check.period_start and check.period_end
    await query.answer()
    title = _("Invoice {number}").format(number=check.number)
    await context.bot.send_invoice(
        chat_id=chat.id,
        title=title[:32],
        description=_("{structure} — services from {start} to {end}").format(
            structure=runtime.structure.name,
            start=format_short_date(check.period_start),
            end=format_short_date(check.period_end),
        )[:255],
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
    async with runtime.database.unit_of_work() as uow:
        check = await validate_pre_checkout(
            uow, user_id=query.from_user.id, payload=query.invoice_payload, currency=query.currency,
            total_amount=query.total_amount, now=runtime.now(),
        )
        await uow.commit()
    if check.outcome is OnlineOutcome.OK:
        await query.answer(ok=True)
        return
    reasons = {
        OnlineOutcome.NOT_YOURS: _("This invoice is not available."),
        OnlineOutcome.ALREADY_PAID: _("This invoice is already paid."),
        OnlineOutcome.AMOUNT_CHANGED: _("The amount due has changed: open the invoice again from your account statement."),
    }
    await query.answer(ok=False, error_message=reasons.get(check.outcome, _("This invoice is not available.")))


async def record_successful_payment(update: Update, context: Context) -> None:
    """Telegram took the money: record it once and thank the parent (a repeat stays silent)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.successful_payment is None:
        return
    paid = message.successful_payment
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        result = await record_online_payment(
            uow, user_id=user.id, payload=paid.invoice_payload, total_amount=paid.total_amount,
            charge_id=paid.telegram_payment_charge_id, provider_charge_id=paid.provider_payment_charge_id,
            today=runtime.today(), now=runtime.now(),
        )
        await uow.commit()
    if result.outcome is OnlineOutcome.DUPLICATE:
        logger.info("payment update delivered again, already recorded: payment %s", result.payment_number)
        return
    if result.outcome is not OnlineOutcome.RECORDED:
        logger.warning("successful payment with an unknown invoice payload (user %s)", user.id)
        await message.reply_text(_("Your payment was received. The structure will allocate it to your account."))
        return
    lines = [
        _("✅ Thank you! Your payment of {amount} for invoice {number} is recorded (no. {payment}).").format(
            amount=format_money(cents_to_amount(paid.total_amount)),
            number=escape(result.number or ""),
            payment=escape(result.payment_number or ""),
        )
    ]
    if result.amount is not None and result.amount > 0:
        lines.append(_("Still due on this invoice: {amount}.").format(amount=format_money(result.amount)))
    await message.reply_text("\n".join(lines))




# --- new invoice notices -------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeReport:
    """What a round of notices did."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0


def notice_text(notice: InvoiceNotice) -> str:
    """"A new invoice is available", in the current language."""
    return _(
        "📄 <b>A new invoice is available</b>\n"
        "Invoice {number} for {start} – {end}: <b>{amount}</b>, to be paid by {due}."
    ).format(
        number=escape(notice.number),
        start=format_short_date(notice.period_start),
        end=format_short_date(notice.period_end),
        amount=format_money(notice.total),
        due=format_short_date(notice.due_on),
    )


async def send_invoice_notices(bot: Bot, runtime: Runtime) -> NoticeReport:
    """Tell every linked account of its new invoices, in its language; each notice once.

    A blocked bot (Forbidden) is skipped for good; another error leaves the notice for the
    next run.
    """
    async with runtime.database.unit_of_work() as uow:
        notices = await pending_invoice_notices(uow, runtime.now())
        await uow.commit()
    sent = blocked = failed = 0
    online = online_payment_enabled(runtime)
    for notice in notices:
        with use_language(notice.language or "fr"):
            text = notice_text(notice)
            keyboard = InlineKeyboardMarkup([invoice_buttons(notice.invoice_id, notice.number, payable=True, online=online)])
        try:
            await _send_with_retry(bot, notice.user_id, text, keyboard)
        except Forbidden:
            blocked += 1
            logger.info("invoice notice skipped: user %s blocked the bot", notice.user_id)
        except TelegramError as exc:
            failed += 1
            logger.warning("invoice notice to user %s failed: %s", notice.user_id, type(exc).__name__)
            continue
        else:
            sent += 1
        async with runtime.database.unit_of_work() as uow:
            await mark_notice_sent(uow, notice.notice_id, runtime.now())
            await uow.commit()
    return NoticeReport(sent, blocked, failed)


async def _send_with_retry(bot: Bot, chat_id: int, text: str, keyboard: InlineKeyboardMarkup) -> None:
    for attempt in range(3):
        try:
            await bot.send_message(chat_id, text, reply_markup=keyboard, parse_mode=ParseMode.HTML)
            return
        except RetryAfter as exc:
            if attempt == 2:
                raise
            delay = exc.retry_after if isinstance(exc.retry_after, (int, float)) else exc.retry_after.total_seconds()
            await asyncio.sleep(float(delay))


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The invoice buttons and Telegram Payments' updates."""
    return [
        CallbackQueryHandler(send_invoice_pdf, pattern=callbacks.pattern(callbacks.INVOICE_PDF)),
        CallbackQueryHandler(start_online_payment, pattern=callbacks.pattern(callbacks.INVOICE_PAY)),
        PreCheckoutQueryHandler(answer_pre_checkout),
        MessageHandler(filters.SUCCESSFUL_PAYMENT, record_successful_payment),
    ]
