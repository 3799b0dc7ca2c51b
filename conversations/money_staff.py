"""Staff commands for money, in the admin group: issue a month's invoices, record a payment.

    /facturer 2026-11
    /paiement 1001001818331 120,60 chèque AL-36

Both are wrapped with `bot.staff.staff_only` (anyone else is refused and audited), refused in
any other group, answered in French, and safe to repeat: issuing a month twice changes nothing,
and a re-delivered /paiement message records one payment. Each calls one service, which audits
it; the "new invoice" messages the service queues are rendered by `conversations.invoices`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from babel.dates import format_date
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CommandHandler

from bot.domain.account import parse_amount, parse_payment_method
from bot.domain.billing import BillingPeriod, parse_month
from bot.i18n import DEFAULT_LANGUAGE, _, babel_locale, format_money, use_language
from bot.runtime import Runtime, get_runtime
from bot.services.billing import IssueOutcome, IssueResult, MissingTariff, issue_invoices
from bot.services.payments import PaymentOutcome, PaymentResult, record_payment
from bot.staff import staff_only
from conversations.common import Context, escape
from conversations.invoices import method_label

ISSUE_COMMAND = "facturer"
PAYMENT_COMMAND = "paiement"


@contextlib.contextmanager
def _staff_language(update: Update, runtime: Runtime) -> Iterator[None]:
    """French in the admin group (what every staff member reads), the user's language elsewhere."""
    chat = update.effective_chat
    if chat is not None and chat.id == runtime.settings.admin_chat_id:
        with use_language(DEFAULT_LANGUAGE):
            yield
    else:
        yield


def _in_wrong_group(update: Update, runtime: Runtime) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type != ChatType.PRIVATE and chat.id != runtime.settings.admin_chat_id


def month_label(period: BillingPeriod) -> str:
    """"novembre 2026"."""
    return format_date(period.start, "MMMM yyyy", locale=babel_locale())


@staff_only("invoices.issue")
async def issue_command(update: Update, context: Context) -> None:
    """/facturer YYYY-MM: issue the month's invoices and tell the families."""
    message, user = update.effective_message, update.effective_user
    runtime = get_runtime(context)
    if message is None or user is None:
        return
    with _staff_language(update, runtime):
        if _in_wrong_group(update, runtime):
            await message.reply_text(_("Staff commands are used in the staff group only."))
            return
        period = parse_month(context.args[0]) if context.args and len(context.args) == 1 else None
        if period is None:
            await message.reply_text(_("Usage: /facturer YYYY-MM (for example /facturer 2026-10)."))
            return
        try:
            result = await issue_invoices(
                runtime.database, runtime.structure, period, today=runtime.today(), now=runtime.now(),
                actor_telegram_id=user.id, actor_kind="staff",
            )
        except MissingTariff as exc:
            await message.reply_text(
                _("The service {code} has no tariffs in the structure file: nothing was invoiced.").format(
                    code=escape(exc.args[0])
                )
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
            _("{count} invoice(s) had already been issued for this month: unchanged.").format(count=result.already_issued)
        )
    if result.undecided_absences:
        lines.append(
            _("{count} late absence(s) still awaiting your decision were billed as “absent facturé”.").format(
                count=result.undecided_absences
            )
        )
    if result.issued:
        lines.append(_("Families told: {count} message(s) on their way to the linked accounts.").format(count=result.notices))
    return "\n".join(lines)


@staff_only("payment.record")
async def payment_command(update: Update, context: Context) -> None:
    """/paiement N_FAMILLE MONTANT MODE [N_FACTURE]: record a payment received by the structure."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    runtime = get_runtime(context)
    if message is None or user is None or chat is None:
        return
    with _staff_language(update, runtime):
        if _in_wrong_group(update, runtime):
            await message.reply_text(_("Staff commands are used in the staff group only."))
            return
        args = list(context.args or [])
        if len(args) >= 4 and parse_payment_method(f"{args[2]} {args[3]}") and not parse_payment_method(args[3]):
            args[2:4] = [f"{args[2]} {args[3]}"]  # a method in two words: "titre émis"
        amount = parse_amount(args[1]) if len(args) >= 3 else None
        method = parse_payment_method(args[2]) if len(args) >= 3 else None
        if len(args) not in (3, 4) or amount is None or method is None:
            await message.reply_text(payment_usage())
            return
        result = await record_payment(
            runtime.database, family_number=args[0], amount=amount, method=method,
            invoice_number=args[3] if len(args) == 4 else None, paid_on=runtime.today(), staff_id=user.id,
            reference=f"telegram:{chat.id}:{message.message_id}", now=runtime.now(),
        )
        await message.reply_text(render_payment_result(result, args[0], args[3] if len(args) == 4 else None))


def payment_usage() -> str:
    """How to write /paiement."""
    return _(
        "Usage: /paiement FAMILY_NUMBER AMOUNT METHOD [INVOICE_NUMBER]\n"
        "Methods: chèque, espèces, CESU, prélèvement, carte, titre émis.\n"
        "Example: /paiement 1001001818331 120,60 chèque AL-36"
    )


def render_payment_result(result: PaymentResult, family_number: str, invoice_number: str | None) -> str:
    """The staff's answer to /paiement."""
    if result.outcome is PaymentOutcome.DUPLICATE:
        return _("This payment was already recorded (no. {number}).").format(number=escape(result.number or ""))
    if result.outcome is PaymentOutcome.UNKNOWN_FAMILY:
        return _("No family has the number {number}.").format(number=escape(family_number))
    if result.outcome is PaymentOutcome.UNKNOWN_INVOICE:
        return _("Invoice {invoice} is not an invoice of family {number}: nothing recorded.").format(
            invoice=escape(invoice_number or ""), number=escape(family_number)
        )
    assert result.amount is not None and result.method is not None and result.balance is not None
    lines = [
        _("✅ Payment {number} recorded: {amount} ({method}) for family {family} ({name}).").format(
            number=escape(result.number or ""), amount=format_money(result.amount), method=method_label(result.method),
            family=escape(result.family_number or ""), name=escape(result.family_name or ""),
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
            lines.append(_("Invoice {invoice}: paid.").format(invoice=escape(result.invoice_number)))
    lines.append(_("Account balance: {amount}.").format(amount=format_money(result.balance)))
    return "\n".join(lines)


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """/facturer and /paiement."""
    return [
        CommandHandler(ISSUE_COMMAND, issue_command),
        CommandHandler(PAYMENT_COMMAND, payment_command),
    ]
