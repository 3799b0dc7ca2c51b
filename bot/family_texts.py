"""How the values of the family's forms read, in the user's language.

Shared by the request descriptions (staff cards, Liste des demandes) and the parent dialogues:
a date reads 12/06/2014, yes reads Oui, a régime reads CAF, an IBAN reads in groups of four.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bot.domain.forms import EMPTY, YES, Field, FieldKind
from bot.domain.model import HealthItemKind
from bot.domain.validators import mask_iban
from bot.i18n import N_, _, format_money, format_short_date

NOTHING = "—"

HEALTH_ITEM_LABELS: dict[HealthItemKind, str] = {
    HealthItemKind.ALLERGY: N_("Allergies"),
    HealthItemKind.ILLNESS: N_("Illnesses"),
    HealthItemKind.CONTRAINDICATION: N_("Contra-indications"),
    HealthItemKind.PAI: N_("PAI (individual care plan)"),
}


def yes_no(value: bool) -> str:
    """Oui / Non."""
    return _("yes") if value else _("no")


def display_value(field: Field, stored: str | None, *, masked: bool = False) -> str:
    """A stored form value as the user reads it ("—" when empty).

    An IBAN always reads masked (`mask_iban`), `masked` or not: to the parent who typed it, in
    the Liste des demandes, in the decision notice and on the staff's card alike.
    """
    if stored is None or stored == EMPTY:
        return NOTHING
    kind = field.kind
    if kind.is_date:
        try:
            return format_short_date(dt.date.fromisoformat(stored))
        except ValueError:
            return stored
    if kind is FieldKind.YES_NO:
        return yes_no(stored == YES)
    if kind is FieldKind.CHOICE:
        label = next((label for code, label in field.choices if code == stored), stored)
        return _(label)
    if kind is FieldKind.AMOUNT:
        return format_money(Decimal(stored))
    if kind is FieldKind.IBAN:
        return mask_iban(stored)  # bank data is never shown in full, whoever reads it (issue 17.1)
    return stored
