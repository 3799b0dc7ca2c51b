"""Relevé de compte (the menu's 💶 tab): a school year's operations, Mes factures, Mes règlements.

As in the seed portal: per school year, the factures (débit) and règlements (crédit) with
their n°, date, description and régie; the ancien solde, the year's totals and the solde;
year to year navigation. The message is edited in place as the parent navigates. Where
online payment is not offered, the statement says how to pay, as the seeds do.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.domain.account import Operation, OperationKind, SchoolYear
from bot.domain.model import PaymentMethod
from bot.i18n import _, format_money, format_short_date
from bot.pdfs import attestation_filename, build_attestation_pdf
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services.statement import (
    StatementView,
    childcare_attestation,
    payments_of_year,
    statement_of_year,
)
from conversations.common import (
    TAB_STATEMENT,
    Context,
    answer_query,
    escape,
    parent_handler,
    show,
    user_id_of,
)
from conversations.invoices import (
    how_to_pay_text,
    invoice_buttons,
    method_label,
    online_payment_enabled,
)

MAX_OPERATIONS_SHOWN = 30
_FIRST_YEAR = 2000


@parent_handler
async def open_statement(update: Update, context: Context) -> None:
    """The menu tab: the current school year's relevé."""
    await _show_year(update, context, SchoolYear.of(get_runtime(context).today()))


@parent_handler(answers_itself=True)
async def show_statement_year(update: Update, context: Context) -> None:
    """◀ / ▶ and the back buttons: the relevé of the year in the button."""
    year = _year_of(update, get_runtime(context))
    if year is None:
        await _stale(update)
        return
    await answer_query(update)
    await _show_year(update, context, year)


async def _show_year(update: Update, context: Context, year: SchoolYear) -> None:
    runtime = get_runtime(context)
    view = await statement_of_year(
        runtime.database, user_id_of(update), year, today=runtime.today()
    )
    await show(update, render_statement(view, runtime), statement_keyboard(view))


def render_statement(view: StatementView, runtime: Runtime) -> str:
    """The relevé de compte of one school year."""
    statement = view.statement
    lines = [
        _("<b>💶 Account statement</b>"),
        _("School year: <b>{year}</b>").format(year=statement.year.label),
        "",
        _("<b>Operations</b>"),
    ]
    operations = statement.operations
    if not operations:
        lines.append(_("No operation in this school year."))
    for operation in operations[:MAX_OPERATIONS_SHOWN]:
        lines += [_render_operation(operation), ""]
    if len(operations) > MAX_OPERATIONS_SHOWN:
        hidden = len(operations) - MAX_OPERATIONS_SHOWN
        lines += [
            _("… and {count} earlier operations: see My invoices and My payments.").format(
                count=hidden
            ),
            "",
        ]
    if not operations:
        lines.append("")
    lines += [
        _("Previous balance: {amount}").format(amount=format_money(statement.previous_balance)),
        _("Total of the year: debit {debit} · credit {credit}").format(
            debit=format_money(statement.total_debit), credit=format_money(statement.total_credit)
        ),
        _balance_line(statement.balance),
    ]
    if view.has_titre_payments:
        lines += ["", titre_note()]
    if not online_payment_enabled(runtime):
        lines += ["", how_to_pay_text(runtime)]
    return "\n".join(lines)


def _invoice_facts(operation: Operation) -> tuple[dt.date, dt.date, Decimal]:
    """An invoice's period and amount (always there on an invoice's operation)."""
    start, end, debit = operation.period_start, operation.period_end, operation.debit
    if start is None or end is None or debit is None:
        raise ValueError(f"invoice operation {operation.id} without its period or amount")
    return start, end, debit


def _payment_facts(operation: Operation) -> tuple[PaymentMethod, Decimal]:
    """A payment's method and amount (always there on a payment's operation)."""
    method, credit = operation.method, operation.credit
    if method is None or credit is None:
        raise ValueError(f"payment operation {operation.id} without its method or amount")
    return method, credit


def _render_operation(operation: Operation) -> str:
    if operation.kind is OperationKind.INVOICE:
        start, end, debit = _invoice_facts(operation)
        description = _("Invoice: {start} - {end}").format(
            start=format_short_date(start), end=format_short_date(end)
        )
        amount = _("debit <b>{amount}</b>").format(amount=format_money(debit))
        icon = "📄"
    else:
        method, credit = _payment_facts(operation)
        description = _("Payment: {method}").format(method=method_label(method))
        amount = _("credit <b>{amount}</b>").format(amount=format_money(credit))
        icon = "💶"
    return "\n".join(
        [
            f"{icon} <b>{escape(operation.number)}</b> · {format_short_date(operation.day)}",
            description,
            f"{escape(operation.regie)} — {amount}",
        ]
    )


def _balance_line(balance: Decimal) -> str:
    if balance < 0:
        return _("<b>Account balance for the school year: {amount} in your favour</b>").format(
            amount=format_money(-balance)
        )
    return _("<b>Account balance for the school year: {amount}</b>").format(
        amount=format_money(balance)
    )


def titre_note() -> str:
    """The seed's warning for structures whose trésorerie collects the payments."""
    return _(
        "ℹ️ Payments of type “Titre émis” are collected by the Trésor public: follow them and "
        "your balance with your trésorerie."
    )


def statement_keyboard(view: StatementView) -> InlineKeyboardMarkup:
    """Mes factures, Mes règlements, the years around, home."""
    year = view.statement.year
    rows = [
        [
            InlineKeyboardButton(
                _("📄 My invoices"),
                callback_data=callbacks.build(callbacks.STATEMENT_INVOICES, year.start_year),
            ),
            InlineKeyboardButton(
                _("💶 My payments"),
                callback_data=callbacks.build(callbacks.STATEMENT_PAYMENTS, year.start_year),
            ),
        ]
    ]
    navigation = []
    if view.statement.has_earlier_operations:
        navigation.append(
            InlineKeyboardButton(
                f"◀ {year.previous().label}",
                callback_data=callbacks.build(callbacks.STATEMENT, year.previous().start_year),
            )
        )
    if view.has_later_year:
        navigation.append(
            InlineKeyboardButton(
                f"{year.next().label} ▶",
                callback_data=callbacks.build(callbacks.STATEMENT, year.next().start_year),
            )
        )
    if navigation:
        rows.append(navigation)
    rows.append(
        [InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))]
    )
    return InlineKeyboardMarkup(rows)


def _back_to_statement(year: SchoolYear) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(
            _("◀ Account statement {year}").format(year=year.label),
            callback_data=callbacks.build(callbacks.STATEMENT, year.start_year),
        ),
        InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME)),
    ]


@parent_handler(answers_itself=True)
async def show_invoices(update: Update, context: Context) -> None:
    """Mes factures: the year's invoices, with their PDF (and Payer) buttons."""
    runtime = get_runtime(context)
    year = _year_of(update, runtime)
    if year is None:
        await _stale(update)
        return
    await answer_query(update)
    view = await statement_of_year(
        runtime.database, user_id_of(update), year, today=runtime.today()
    )
    online = online_payment_enabled(runtime)
    invoices = view.statement.invoices
    lines = [_("<b>📄 My invoices</b> — school year {year}").format(year=year.label), ""]
    rows = []
    if not invoices:
        lines.append(_("No invoice in this school year."))
    for invoice in invoices:
        start, end, debit = _invoice_facts(invoice)
        due = view.due(invoice.id, debit)
        lines.append(
            _("• <b>{number}</b> of {date}, for {start} - {end}: {amount}").format(
                number=escape(invoice.number),
                date=format_short_date(invoice.day),
                start=format_short_date(start),
                end=format_short_date(end),
                amount=format_money(debit),
            )
        )
        lines.append(
            _("  still due: {amount}").format(amount=format_money(due))
            if due > 0
            else _("  paid ✅")
        )
        rows.append(invoice_buttons(invoice.id, invoice.number, payable=due > 0, online=online))
    if not online:
        lines += ["", how_to_pay_text(runtime)]
    rows.append(_back_to_statement(year))
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


@parent_handler(answers_itself=True)
async def show_payments(update: Update, context: Context) -> None:
    """Mes règlements: the year's payments, and the attestations de frais de garde."""
    runtime = get_runtime(context)
    year = _year_of(update, runtime)
    if year is None:
        await _stale(update)
        return
    await answer_query(update)
    result = await payments_of_year(
        runtime.database, user_id_of(update), year, today=runtime.today()
    )
    view, years = result.view, result.attestation_years
    payments = view.statement.payments
    lines = [_("<b>💶 My payments</b> — school year {year}").format(year=year.label), ""]
    if not payments:
        lines.append(_("No payment in this school year."))
    for payment in payments:
        method, credit = _payment_facts(payment)
        lines.append(
            _("• <b>{number}</b> of {date}: {method}, {amount}").format(
                number=escape(payment.number),
                date=format_short_date(payment.day),
                method=method_label(method),
                amount=format_money(credit),
            )
        )
    if view.has_titre_payments:
        lines += ["", titre_note()]
    rows = [
        [
            InlineKeyboardButton(
                _("🧾 Childcare certificate {year}").format(year=calendar_year),
                callback_data=callbacks.build(callbacks.ATTESTATION, calendar_year),
            )
        ]
        for calendar_year in years[:2]
    ]
    if years:
        lines += [
            "",
            _(
                "The childcare expenses certificate (for your tax return) lists what you paid in a calendar year for your children under 7."
            ),
        ]
    rows.append(_back_to_statement(year))
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


@parent_handler(answers_itself=True)
async def send_attestation(update: Update, context: Context) -> None:
    """The attestation de frais de garde of a calendar year, as a PDF."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        await _stale(update)
        return
    runtime = get_runtime(context)
    year = parsed.int_arg(0)
    if year is None or not _FIRST_YEAR <= year <= runtime.today().year:
        await _stale(update)
        return
    document = await childcare_attestation(
        runtime.database, user_id_of(update), runtime.structure, year, today=runtime.today()
    )
    if not document.children:
        await answer_query(
            update,
            _("Nothing was paid in {year} for the care of a child under 7.").format(year=year),
            show_alert=True,
        )
        return
    await answer_query(update)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_document(
            document=build_attestation_pdf(document, runtime.structure),
            filename=attestation_filename(year, document.family_number),
            caption=_("Childcare expenses certificate {year}: {amount}").format(
                year=year, amount=format_money(document.total)
            ),
        )


def _year_of(update: Update, runtime: Runtime) -> SchoolYear | None:
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if parsed is None:
        return None
    start_year = parsed.int_arg(0)
    if (
        start_year is None
        or not _FIRST_YEAR <= start_year <= SchoolYear.of(runtime.today()).start_year
    ):
        return None
    return SchoolYear(start_year)


async def _stale(update: Update) -> None:
    await answer_query(update, _("This button is no longer valid."))


def build_handlers() -> list[AnyHandler]:
    """The Relevé de compte tab and its buttons (register before home's menu handler)."""
    return [
        CallbackQueryHandler(open_statement, pattern=rf"^{callbacks.MENU}:{TAB_STATEMENT}$"),
        CallbackQueryHandler(show_statement_year, pattern=callbacks.pattern(callbacks.STATEMENT)),
        CallbackQueryHandler(
            show_invoices, pattern=callbacks.pattern(callbacks.STATEMENT_INVOICES)
        ),
        CallbackQueryHandler(
            show_payments, pattern=callbacks.pattern(callbacks.STATEMENT_PAYMENTS)
        ),
        CallbackQueryHandler(send_attestation, pattern=callbacks.pattern(callbacks.ATTESTATION)),
    ]
