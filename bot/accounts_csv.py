"""The accounts export as two CSV files a régie's software (or the Trésor public) can load.

`factures-YYYY-MM.csv`: one line per invoice line, the invoice's columns repeated (number,
dates, régie, N° famille, debtor and address, invoice amount), then the line's service,
child, quantity, unit price and amount. `reglements-YYYY-MM.csv`: one line per payment.
French spreadsheet conventions: `;`, decimal comma, dd/mm/yyyy, UTF-8 with BOM; amounts
exact to the cent, as on the PDFs. Column names are in the staff's language (French).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bot.domain.model import PaymentMethod
from bot.i18n import N_, _
from bot.services.accounts_export import MonthExport
from bot.spreadsheets import format_amount, write_csv

METHOD_LABELS: dict[PaymentMethod, str] = {
    PaymentMethod.CHEQUE: N_("Cheque"),
    PaymentMethod.CASH: N_("Cash"),
    PaymentMethod.CESU: N_("CESU"),
    PaymentMethod.DIRECT_DEBIT: N_("Direct debit"),
    PaymentMethod.CARD: N_("Bank card"),
    PaymentMethod.TITRE: N_("Titre émis (Trésor public)"),
    PaymentMethod.ONLINE: N_("Online payment"),
}


def _date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _quantity(value: Decimal) -> str:
    return (
        f"{value.normalize():f}".replace(".", ",")
        if value == value.to_integral_value()
        else format_amount(value)
    )


def invoices_filename(export: MonthExport) -> str:
    """ "factures-2026-11.csv"."""
    return f"factures-{export.period.code}.csv"


def payments_filename(export: MonthExport) -> str:
    """ "reglements-2026-11.csv"."""
    return f"reglements-{export.period.code}.csv"


def invoices_csv(export: MonthExport) -> bytes:
    """One line per invoice line."""
    headers = [
        _("Invoice number"),
        _("Invoice date"),
        _("Due date"),
        _("Period from"),
        _("Period to"),
        _("Régie"),
        _("Family number"),
        _("Debtor"),
        _("Address"),
        _("Postal code"),
        _("City"),
        _("Invoice amount"),
        _("Line"),
        _("Description"),
        _("Service code"),
        _("Service"),
        _("Child"),
        _("Quantity"),
        _("Unit price"),
        _("Line amount"),
    ]
    rows = []
    for invoice in export.invoices:
        head = [
            invoice.number,
            _date(invoice.issued_on),
            _date(invoice.due_on),
            _date(invoice.period_start),
            _date(invoice.period_end),
            invoice.regie_code,
            invoice.debtor.family_number,
            invoice.debtor.name,
            invoice.debtor.address,
            invoice.debtor.postal_code,
            invoice.debtor.city,
            format_amount(invoice.total),
        ]
        for index, line in enumerate(invoice.lines, start=1):
            rows.append(
                [
                    *head,
                    index,
                    line.label,
                    line.service_code,
                    line.service_name,
                    line.child,
                    _quantity(line.quantity),
                    format_amount(line.unit_price),
                    format_amount(line.amount),
                ]
            )
    return write_csv(headers, rows)


def payments_csv(export: MonthExport) -> bytes:
    """One line per payment."""
    headers = [
        _("Payment number"),
        _("Date"),
        _("Régie"),
        _("Family number"),
        _("Debtor"),
        _("Method"),
        _("Amount"),
        _("Invoice number"),
        _("Reference"),
    ]
    rows = [
        [
            payment.number,
            _date(payment.paid_on),
            payment.regie_code,
            payment.debtor.family_number,
            payment.debtor.name,
            _(METHOD_LABELS[payment.method]),
            format_amount(payment.amount),
            payment.invoice_number,
            payment.reference,
        ]
        for payment in export.payments
    ]
    return write_csv(headers, rows)
