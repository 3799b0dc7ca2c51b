"""The import's rules, as tables: reading a cell, the services column, headers, the decisions."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain import family_import as fi
from bot.domain.family_import import Action, ExistingChild, ExistingFamily, Section

TODAY = dt.date(2026, 11, 23)
RUNS_ON = {
    "cantine": frozenset({0, 1, 3, 4}),
    "garderie_matin": frozenset({0, 1, 3, 4}),
    "alsh_mercredi": frozenset({2}),
}


def column(header: str) -> fi.Column:
    found = fi.column_for(header)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("header", "raw", "stored"),
    [
        ("Civilité", "M.", "Monsieur"),
        ("Civilité", "Mme", "Madame"),
        ("Régime", "caf", "caf"),
        ("Régime", "Autre", "other"),
        ("Accord SMS", "Oui", "yes"),
        ("Accord SMS", "", "no"),
        ("Accord email", "X", "yes"),
        ("Code postal", "1000", "01000"),
        ("Code postal", "31 400", "31400"),
        ("Téléphone portable", "0612345678", "06 12 34 56 78"),
        ("Téléphone portable", "+44 20 7946 0958", "+44 20 7946 0958"),
        ("Email", "Jean.Dupont@Example.FR", "Jean.Dupont@example.fr"),
        ("Quotient familial", "850,5", "850.50"),
        ("N° allocataire", "123 4567", "1234567"),
        ("Enfant date de naissance", "12/06/2018", "2018-06-12"),
        ("Enfant sexe", "Garçon", "M"),
        ("IBAN", "fr76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189"),
        ("Nom", "  DUPONT  ", "DUPONT"),
        ("Téléphone domicile", "", ""),
    ],
)
def test_a_cell_is_stored_as_the_forms_store_it(header: str, raw: str, stored: str) -> None:
    assert fi.normalise_cell(column(header), raw, TODAY) == stored


@pytest.mark.parametrize(
    ("header", "raw", "code"),
    [
        ("Téléphone portable", "06 12 34", "phone"),
        ("Email", "jean@", "email"),
        ("Code postal", "99999", "postal_code"),
        ("Enfant date de naissance", "31/02/2019", "date"),
        ("Enfant date de naissance", "12/06/1990", "date_too_old"),
        ("N° allocataire", "12", "caf_number"),
        ("IBAN", "FR76 3000 6000 0112 3456 7890 188", "iban_checksum"),
        ("Civilité", "Docteur", "choice"),
        ("Accord SMS", "peut-être", "choice"),
        ("Quotient familial", "beaucoup", "amount"),
    ],
)
def test_a_wrong_cell_says_why(header: str, raw: str, code: str) -> None:
    with pytest.raises(ValueError) as raised:
        fi.normalise_cell(column(header), raw, TODAY)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("raw", "services"),
    [
        ("cantine", {"cantine": None}),
        (
            "cantine (lun mar jeu ven), garderie_matin",
            {"cantine": "mon,tue,thu,fri", "garderie_matin": None},
        ),
        (
            "CANTINE(jeudi,lundi); alsh_mercredi (mer)",
            {"cantine": "mon,thu", "alsh_mercredi": "wed"},
        ),
        ("cantine | garderie_matin", {"cantine": None, "garderie_matin": None}),
    ],
)
def test_the_services_column(raw: str, services: dict[str, str | None]) -> None:
    assert fi.parse_services(raw, RUNS_ON) == services


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("piscine", "unknown_service"),
        ("cantine (mer)", "day_not_run"),
        ("cantine (lundy)", "bad_weekday"),
        ("cantine ((", "services_syntax"),
    ],
)
def test_a_wrong_services_cell_says_why(raw: str, code: str) -> None:
    with pytest.raises(ValueError) as raised:
        fi.parse_services(raw, RUNS_ON)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("N° famille", "number"),
        ("No Famille", "number"),
        ("numero famille", "number"),
        ("NOM", "last_name"),
        ("Conjoint Téléphone portable", "phone_mobile"),
        ("Date de naissance", "birth_date"),
        ("Ecole", "school"),
    ],
)
def test_headers_are_recognised_without_case_accents_or_punctuation(header: str, key: str) -> None:
    assert column(header).key == key


HEADERS = [
    "N° famille",
    "Nom",
    "Prénom",
    "Téléphone portable",
    "Enfant nom",
    "Enfant prénom",
    "Enfant date de naissance",
    "Services",
]


def parse(*rows: list[str]) -> fi.ParsedFile:
    return fi.parse_rows(
        HEADERS, [(i + 2, row) for i, row in enumerate(rows)], today=TODAY, runs_on=RUNS_ON
    )


def test_lines_of_one_family_must_agree_and_a_child_is_listed_once() -> None:
    parsed = parse(
        ["1", "DUPONT", "JEAN", "0612345678", "DUPONT", "LUCAS", "12/06/2018", "cantine"],
        ["1", "DUPONT", "JEAN", "0699999999", "DUPONT", "EMMA", "01/02/2020", ""],
        ["1", "DUPONT", "JEAN", "", "Dupont", "Lucas", "2018-06-12", ""],
        ["2", "", "", "", "MARTIN", "LÉA", "01/01/2019", ""],
    )
    assert [(p.line, p.column, p.code) for p in parsed.problems] == [
        (3, "Téléphone portable", "inconsistent"),
        (4, "Enfant prénom", "duplicate_child"),
        (5, "Nom", "required"),
        (5, "Prénom", "required"),
    ]
    assert [len(f.children) for f in parsed.families] == [2, 1]


def existing(
    phone: str, *, imported: str | None, child_services: dict[str, str | None] | None = None
) -> ExistingFamily:
    snapshot = None
    if imported is not None:
        snapshot = {
            "responsable": {"last_name": "DUPONT", "first_name": "JEAN", "phone_mobile": imported},
            "children": {
                "7": {
                    "key": ["dupont", "lucas", "2018-06-12"],
                    "values": {
                        "last_name": "DUPONT",
                        "first_name": "LUCAS",
                        "birth_date": "2018-06-12",
                    },
                    "services": {"cantine": None},
                }
            },
        }
    return ExistingFamily(
        family_id=1,
        number="1",
        name="DUPONT JEAN",
        sections={
            Section.RESPONSABLE: {
                "last_name": "DUPONT",
                "first_name": "JEAN",
                "phone_mobile": phone,
            }
        },
        has_conjoint=False,
        children=(
            ExistingChild(
                7,
                {"last_name": "DUPONT", "first_name": "LUCAS", "birth_date": "2018-06-12"},
                child_services if child_services is not None else {"cantine": None},
            ),
        ),
        snapshot=snapshot,
    )


FILE = ["1", "DUPONT", "JEAN", "0612345678", "DUPONT", "LUCAS", "12/06/2018", "cantine"]


@pytest.mark.parametrize(
    ("current", "imported", "overwrite", "action", "conflicts"),
    [
        (
            "06 12 34 56 78",
            "06 12 34 56 78",
            False,
            Action.UNCHANGED,
            0,
        ),  # nothing changed anywhere
        ("06 00 00 00 00", "06 00 00 00 00", False, Action.UPDATE, 0),  # the file changed: taken
        (
            "06 11 11 11 11",
            "06 00 00 00 00",
            False,
            Action.UNCHANGED,
            1,
        ),  # changed since the import: kept
        (
            "06 11 11 11 11",
            "06 12 34 56 78",
            False,
            Action.UNCHANGED,
            1,
        ),  # the file still has the old value
        ("06 11 11 11 11", "06 00 00 00 00", True, Action.UPDATE, 1),  # --overwrite: the file wins
        (
            "06 11 11 11 11",
            None,
            False,
            Action.UPDATE,
            0,
        ),  # never imported: the file is the reference
    ],
)
def test_what_the_import_does_with_a_value(
    current: str, imported: str | None, overwrite: bool, action: Action, conflicts: int
) -> None:
    plan = fi.plan_import(
        parse(FILE), {"1": existing(current, imported=imported)}, overwrite=overwrite
    )
    (family,) = plan.families
    assert (family.action, len(family.conflicts)) == (action, conflicts)


def test_an_enrolment_added_since_the_import_survives_prune_unless_overwrite() -> None:
    record = {
        "1": existing(
            "06 12 34 56 78",
            imported="06 12 34 56 78",
            child_services={"cantine": None, "garderie_matin": None},
        )
    }
    kept = fi.plan_import(parse(FILE), record, prune=True)
    assert kept.families[0].children[0].end_services == [] and len(kept.conflicts) == 1
    ended = fi.plan_import(parse(FILE), record, prune=True, overwrite=True)
    assert ended.families[0].children[0].end_services == ["garderie_matin"]
    quiet = fi.plan_import(parse(FILE), record)
    assert quiet.families[0].action is Action.UNCHANGED and quiet.conflicts == []


def test_a_child_whose_name_was_corrected_is_still_recognised_by_the_snapshot() -> None:
    family = existing("06 12 34 56 78", imported="06 12 34 56 78")
    renamed = ExistingFamily(
        **{
            **family.__dict__,
            "children": (
                ExistingChild(
                    7,
                    {"last_name": "DUPONT", "first_name": "LUCAS", "birth_date": "2018-06-21"},
                    {"cantine": None},
                ),
            ),
        }
    )
    plan = fi.plan_import(parse(FILE), {"1": renamed})
    (child,) = plan.families[0].children
    assert (child.action, child.child_id) == (Action.UNCHANGED, 7)
    assert [(c.key, c.current, c.file) for c in plan.families[0].conflicts] == [
        ("birth_date", "2018-06-21", "2018-06-12")
    ]
