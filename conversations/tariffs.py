"""Tarifs en cours: the prices the family pays, from its quotient familial and régime.

`/tarifs`, or a button built with `callbacks.build(callbacks.TARIFFS)` (for Mes enfants);
`render_tariffs` renders the same text for any other screen.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.domain.model import Regime
from bot.domain.tariffs import Unit
from bot.i18n import N_, _, format_money
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services.billing import FamilyTariffs
from bot.services.statement import current_tariffs
from conversations.common import (
    Context,
    back_to_home_keyboard,
    escape,
    parent_handler,
    show,
    user_id_of,
)

_PER_UNIT: dict[Unit, str] = {
    Unit.DAY: N_("{price} per day"),
    Unit.MEAL: N_("{price} per meal"),
    Unit.SNACK: N_("{price} per snack"),
    Unit.SESSION: N_("{price} per session"),
    Unit.QUARTER_HOUR: N_("{price} per quarter-hour"),
}
_REGIMES: dict[Regime, str] = {
    Regime.CAF: "CAF",
    Regime.MSA: "MSA",
    Regime.OTHER: N_("other scheme"),
}


def render_tariffs(tariffs: FamilyTariffs) -> str:
    """The "Tarifs en cours" text."""
    lines = [_("<b>💶 Current tariffs</b>")]
    if tariffs.quotient is not None:
        lines.append(_("Quotient familial: {amount}").format(amount=format_money(tariffs.quotient)))
    else:
        lines.append(_("Quotient familial not provided: the highest tariff applies."))
    if tariffs.regime is not None:
        lines.append(_("Scheme: {regime}").format(regime=_(_REGIMES[tariffs.regime])))
    lines.append("")
    if not tariffs.items:
        lines.append(_("No tariff is published yet."))
    for item in tariffs.items:
        price = _(_PER_UNIT[item.unit]).format(price=format_money(item.price))
        lines.append(_("• {service}: {price}").format(service=escape(item.service), price=price))
    lines += [
        "",
        _("To change your quotient familial, send the structure your CAF or MSA certificate."),
    ]
    return "\n".join(lines)


@parent_handler
async def show_tariffs(update: Update, context: Context) -> None:
    """/tarifs or the Tarifs en cours button."""
    runtime = get_runtime(context)
    tariffs = await current_tariffs(runtime.database, user_id_of(update), runtime.structure)
    await show(update, render_tariffs(tariffs), back_to_home_keyboard())


def build_handlers() -> list[AnyHandler]:
    """/tarifs and its button."""
    return [
        CommandHandler("tarifs", show_tariffs, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(show_tariffs, pattern=callbacks.pattern(callbacks.TARIFFS)),
    ]
