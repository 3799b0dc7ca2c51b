"""A generated export of a commune's families, as its software would write it (one line per child)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.domain.family_import import template_rows

HEADERS = template_rows()[0]
LAST_NAMES = (
    "MARTIN",
    "BERNARD",
    "THOMAS",
    "PETIT",
    "ROBERT",
    "RICHARD",
    "DURAND",
    "DUBOIS",
    "MOREAU",
    "LEFÈVRE",
    "GARÇON",
    "CŒURDEROI",
    "MÉNARD",
    "FAURÉ",
)
FIRST_NAMES = (
    "Hélène",
    "François",
    "Gaëlle",
    "Jérôme",
    "Zoé",
    "Noël",
    "Léa",
    "Chloé",
    "Inès",
    "Maël",
    "Ève",
    "Loïc",
)
CHILD_NAMES = ("Léo", "Jade", "Noé", "Anaïs", "Théo", "Clémence", "Raphaël", "Maëlys")
SCHOOLS = ("École Jules Ferry", "École élémentaire Les Écureuils")


def family_number(index: int) -> str:
    """The N° famille of the index-th family."""
    return f"2{index:09d}"


def family_rows(count: int) -> list[dict[str, str]]:
    """`count` families, one line per child (one family in three has two children)."""
    rows = []
    for i in range(count):
        last = LAST_NAMES[i % len(LAST_NAMES)]
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        base = {
            "N° famille": family_number(i),
            "Civilité": "Madame" if i % 2 else "Monsieur",
            "Nom": last,
            "Prénom": first,
            "Qualité": "Mère" if i % 2 else "Père",
            "Adresse": f"{i + 1} rue de l'Église",
            "Code postal": "31400",
            "Ville": "TOULOUSE",
            "Téléphone portable": f"06 {i // 1000000 % 100:02d} {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}",
            "Email": f"famille{i}@example.fr",
            "Accord email": "oui",
            "Accord SMS": "non",
            "Régime": "CAF",
            "N° allocataire": f"{1000000 + i}",
            "Quotient familial": f"{400 + i % 900},50",
        }
        if i % 4 == 0:
            base.update(
                {
                    "Conjoint civilité": "Monsieur",
                    "Conjoint nom": last,
                    "Conjoint prénom": "Noël",
                    "Conjoint téléphone portable": f"07 81 {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}",
                }
            )
        for k in range(2 if i % 3 == 0 else 1):
            child = CHILD_NAMES[(i + k) % len(CHILD_NAMES)]
            rows.append(
                {
                    **base,
                    "Enfant nom": last,
                    "Enfant prénom": child,
                    "Enfant date de naissance": f"{1 + (i + k) % 28:02d}/{1 + (i + 3 * k) % 12:02d}/{2015 + (i + k) % 7}",
                    "Enfant sexe": "F" if (i + k) % 2 else "M",
                    "École": SCHOOLS[i % 2],
                    "Classe": ("CP", "CE1", "CE2", "CM1", "CM2")[(i + k) % 5],
                    "Services": "cantine (lun mar jeu ven), garderie_matin"
                    if k == 0
                    else "cantine",
                }
            )
    return rows


def to_csv(
    rows: Sequence[dict[str, str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ";",
    headers: Sequence[str] = HEADERS,
) -> bytes:
    """The rows as the software's CSV export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(header, "") for header in headers])
    return buffer.getvalue().encode(encoding)


def line_of(rows: Sequence[dict[str, str]], number: str, child: int = 0) -> int:
    """The spreadsheet line (header = 1) of a family's child-th line."""
    found = [i for i, row in enumerate(rows) if row["N° famille"] == number]
    return found[child] + 2
