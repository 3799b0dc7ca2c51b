"""Which family a staff member means: a N° famille or a name ("DUPONT", "jean dupont").

One resolver for every staff command taking a family (`/famille`, `/message`, `/invite`,
`/historique`, `/garde`, `/paiement`, `/facturer`…): the handler passes the word(s) typed and
gets the matching families; exactly one is the family, several ask the staff member to choose
(buttons carrying each family's number), none is an error naming what was typed.

    lookup = await find_family(db, "DUPONT")
    if lookup.family is not None: ...        # lookup.family.number, .name
    elif lookup.matches: ...                 # several: offer a choice
    else: ...                                # nobody: lookup.query in the error
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from bot.domain.model import GuardianRole
from bot.domain.staff_input import parse_family_number
from bot.services.use_case import use_case
from storage.db import Database, UnitOfWork
from storage.models import Family, Guardian

MAX_MATCHES = 8
"""At most this many families are offered to choose from."""


@dataclass(frozen=True)
class FamilyChoice:
    """A family a staff member may mean: its number and the responsable's name."""

    family_id: int
    number: str
    name: str


@dataclass(frozen=True)
class FamilyLookup:
    """The families matching what was typed (`query`), best first."""

    query: str
    matches: tuple[FamilyChoice, ...]
    by_number: bool = False

    @property
    def family(self) -> FamilyChoice | None:
        """The one family meant, or None (none, or several to choose from)."""
        return self.matches[0] if len(self.matches) == 1 else None

    @property
    def ambiguous(self) -> bool:
        """True when several families match."""
        return len(self.matches) > 1


async def find_family(db: Database, text: str) -> FamilyLookup:
    """The families a staff member's word(s) name: a N° famille, or a guardian's name."""
    async with use_case(db) as uow:
        return await find_family_in(uow, text)


async def find_family_in(uow: UnitOfWork, text: str) -> FamilyLookup:
    """`find_family` inside the caller's transaction."""
    query = " ".join(text.split())
    number = parse_family_number(query)
    if number is not None:
        family = await uow.repos.families.get_by_number(number)
        matches = () if family is None else (await _choice(uow, family),)
        return FamilyLookup(number, matches, by_number=True)
    wanted = _fold(query)
    if len(wanted) < 2:
        return FamilyLookup(query, ())
    rows = (
        await uow.session.execute(
            select(Guardian, Family).join(Family, Guardian.family_id == Family.id)
        )
    ).all()
    exact: dict[int, Family] = {}
    partial: dict[int, Family] = {}
    for guardian, family in rows:
        last, full, reverse = (
            _fold(guardian.last_name),
            _fold(f"{guardian.first_name} {guardian.last_name}"),
            _fold(f"{guardian.last_name} {guardian.first_name}"),
        )
        if wanted in (last, full, reverse):
            exact[family.id] = family
        elif last.startswith(wanted) or full.startswith(wanted) or reverse.startswith(wanted):
            partial[family.id] = family
    found = exact or partial
    families = sorted(found.values(), key=lambda f: f.number)[:MAX_MATCHES]
    return FamilyLookup(query, tuple([await _choice(uow, family) for family in families]))


async def _choice(uow: UnitOfWork, family: Family) -> FamilyChoice:
    loaded = await uow.repos.families.get_by_number(family.number)  # with its guardians
    guardian = loaded.guardian(GuardianRole.RESPONSABLE) if loaded is not None else None
    name = f"{guardian.first_name} {guardian.last_name}".upper() if guardian is not None else ""
    return FamilyChoice(family.id, family.number, name)


def _fold(value: str) -> str:
    """Lower case, accents and hyphens dropped, single spaces: "Émilie Le-Goff" → "emilie le goff"."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = (
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .lower()
        .replace("-", " ")
        .replace("'", " ")
    )
    return " ".join(plain.split())
