"""Tarifs en cours: the prices the family pays, from its quotient familial and régime.

`/tarifs`, or a button built with `callbacks.build(callbacks.TARIFFS)` (for Mes enfants);
`tariffs_text(runtime, family_id)` renders the same text for any other screen.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.domain.model import Regime
from bot.domain.tariffs import Unit
from bot.i18n import N_, _, format_money
from bot.runtime import Runtime, get_runtime
from bot.services.billing import FamilyTariffs, family_tariffs
from conversations.common import Context, back_to_home_keyboard, escape, linked_family, show

_PER_UNIT: dict[Unit, str] = {
    Unit.DAY: N_("{price} per day"),
    Unit.MEAL: N_("{price} per meal"),
    Unit.SNACK: N_("{price} per snack"),
    Unit.SESSION: N_("{price} per session"),
}
_REGIMES: dict[Regime, str] = {Regime.CAF: "CAF", Regime.MSA: "MSA", Regime.OTHER: N_("other scheme")}


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
    lines += ["", _("To change your quotient familial, send the structure your CAF or MSA certificate.")]
    return "\n".join(lines)


async def tariffs_text(runtime: Runtime, family_id: int) -> str:
    """The family's "Tarifs en cours", ready to show (for other screens such as Mes enfants)."""
    async with runtime.database.unit_of_work() as uow:
        tariffs = await family_tariffs(uow, runtime.structure, family_id)
    return render_tariffs(tariffs)


async def show_tariffs(update: Update, context: Context) -> None:
    """/tarifs or the Tarifs en cours button."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    family_id = await linked_family(update, context)
    if family_id is None:
        return
    await show(update, await tariffs_text(get_runtime(context), family_id), back_to_home_keyboard())


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """/tarifs and its button."""
    return [
        CommandHandler("tarifs", show_tariffs, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(show_tariffs, pattern=callbacks.pattern(callbacks.TARIFFS)),
    ]
