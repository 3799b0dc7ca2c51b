"""The home screen (Accueil), whether an account is linked, and the family record.

`home_summary(db, user_id)` is the Accueil's use case; `family_record` and
`summary_of_family` are building blocks for other use cases' transactions. None of them
writes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.model import GuardianRole
from bot.services.use_case import family_use_case, use_case
from storage.db import Database, UnitOfWork
from storage.models import Child, Family, Guardian


@dataclass(frozen=True)
class InvoiceDue:
    """An unpaid invoice line of the home screen."""

    number: str
    issued_on: dt.date
    due_on: dt.date
    amount_due: Decimal
    invoice_id: int = 0


@dataclass(frozen=True)
class HomeSummary:
    """What the seed portal's Accueil shows."""

    family_number: str
    greeting_name: str
    """The responsable's name ("JEAN DUPONT"): whom the family's records are addressed to."""
    unread_messages: int
    balance: Decimal
    unpaid_invoices: tuple[InvoiceDue, ...]
    guardians: tuple[tuple[str, str], ...] = ()
    """(first name, display name) of each guardian on record, responsable first."""

    def greeting_for(self, account_first_name: str | None) -> str:
        """Whom to greet on an account: the one guardian whose first name is the Telegram
        account's ("Jeanne" → "JEANNE DUPONT"), else "" (a neutral greeting: the account may be
        anyone's the family linked, and greeting the wrong parent is worse than no name)."""
        wanted = _comparable(account_first_name or "")
        if not wanted:
            return ""
        matches = [name for first, name in self.guardians if wanted in _first_names(first)]
        return matches[0] if len(matches) == 1 else ""

    @property
    def unpaid_total(self) -> Decimal:
        """Sum of what remains due on unpaid invoices."""
        return sum((item.amount_due for item in self.unpaid_invoices), Decimal("0.00"))


@dataclass(frozen=True)
class FamilyRecord:
    """The fiche famille with its guardians and children."""

    family: Family
    responsable: Guardian | None
    conjoint: Guardian | None
    children: tuple[Child, ...]


class FamilyNotFound(LookupError):
    """The family disappeared (e.g. deleted by staff) while linked."""


async def family_id_of_user(uow: UnitOfWork, user_id: int) -> int | None:
    """The family the account is linked to, if any (within a caller's transaction)."""
    link = await uow.repos.telegram.active_link(user_id)
    return link.family_id if link else None


async def is_linked(db: Database, user_id: int) -> bool:
    """Whether the Telegram account is linked to a family."""
    async with use_case(db) as uow:
        return await family_id_of_user(uow, user_id) is not None


async def account_family(db: Database, user_id: int) -> int:
    """The family of a linked account; `NotLinked` otherwise."""
    async with family_use_case(db, user_id, read_only=True) as (_uow, family_id):
        return family_id


async def home_summary(db: Database, user_id: int) -> HomeSummary:
    """The Accueil of the account's family; `NotLinked` when the account is not linked."""
    async with family_use_case(db, user_id, read_only=True) as (uow, family_id):
        return await summary_of_family(uow, family_id)


async def summary_of_family(uow: UnitOfWork, family_id: int) -> HomeSummary:
    """Greeting, unread messages, balance and unpaid invoices of a family."""
    record = await family_record(uow, family_id)
    account = await uow.repos.accounts.position(family_id)
    guardians = tuple(
        (guardian.first_name, display_name(guardian))
        for guardian in (record.responsable, record.conjoint)
        if guardian
    )
    return HomeSummary(
        family_number=record.family.number,
        greeting_name=display_name(record.responsable),
        unread_messages=await uow.repos.messages.unread_count(family_id),
        balance=account.balance,
        unpaid_invoices=tuple(
            InvoiceDue(
                item.invoice.number,
                item.invoice.issued_on,
                item.invoice.due_on,
                item.due,
                item.invoice.id,
            )
            for item in account.unpaid
        ),
        guardians=guardians,
    )


def _comparable(name: str) -> str:
    """A first name compared without case nor accents ("Jérôme" == "JEROME")."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _first_names(first_name: str) -> set[str]:
    """A guardian's first name and its parts ("JEAN-PIERRE" → jean-pierre, jean, pierre)."""
    whole = _comparable(first_name)
    return {whole, *(part for part in re.split(r"[\s-]+", whole) if part)}


async def family_record(uow: UnitOfWork, family_id: int) -> FamilyRecord:
    """The family with its guardians and children; FamilyNotFound when gone."""
    family = await uow.repos.families.get(family_id)
    if family is None:
        raise FamilyNotFound(family_id)
    return FamilyRecord(
        family=family,
        responsable=family.guardian(GuardianRole.RESPONSABLE),
        conjoint=family.guardian(GuardianRole.CONJOINT),
        children=tuple(await uow.repos.families.children(family_id)),
    )


def display_name(guardian: Guardian | None) -> str:
    """ "JEAN DUPONT", as the seed portal greets."""
    if guardian is None:
        return ""
    return f"{guardian.first_name} {guardian.last_name}".upper()
