"""Importing a commune's families: a real export with its errors, the fixed file, re-imports,
an updated line, a parent's change since the last import, pruning."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.domain.model import GuardianRole
from bot.i18n import use_language
from bot.import_texts import errors_csv, render_report
from bot.services import family_requests  # noqa: F401  (registers the request types)
from bot.services.family_import import ImportOptions, ImportOutcome, apply_import, preview_import
from bot.services.family_requests import SubmitOutcome, submit_form
from bot.services.requests import decide_request
from bot.services.structure_sync import sync_structure
from bot.spreadsheets import write_xlsx
from bot.structure import Structure
from storage.db import Database
from storage.models import Child, Enrolment, Family, Guardian, TelegramLink
from tests.support.families_file import HEADERS, family_number, family_rows, line_of, to_csv

NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
STAFF = 901


@pytest.fixture
async def commune(database: Database, structure: Structure) -> Database:
    """An empty database with the structure's services."""
    async with database.transaction() as uow:
        await sync_structure(uow, structure)
    return database


async def preview(
    db: Database, structure: Structure, content: bytes, name: str = "familles.csv", **options: bool
):  # type: ignore[no-untyped-def]
    return await preview_import(
        db, structure, content, name, ImportOptions(**options), today=TODAY, now=NOW, actor_id=STAFF
    )


async def apply(
    db: Database, structure: Structure, content: bytes, name: str = "familles.csv", **options: bool
):  # type: ignore[no-untyped-def]
    return await apply_import(
        db, structure, content, name, ImportOptions(**options), today=TODAY, now=NOW, actor_id=STAFF
    )


async def count(db: Database, model: type) -> int:
    async with db.unit_of_work() as uow:
        return (await uow.session.execute(select(func.count()).select_from(model))).scalar_one()


def french(report) -> str:  # type: ignore[no-untyped-def]
    with use_language("fr"):
        return render_report(report)


async def test_a_real_export_of_2000_families_is_checked_line_by_line_then_applied_once(
    commune: Database, structure: Structure
) -> None:
    rows = family_rows(2000)
    broken = copy.deepcopy(rows)
    broken[line_of(broken, family_number(10)) - 2]["Téléphone portable"] = "06 12 34"
    broken[line_of(broken, family_number(40)) - 2]["Enfant date de naissance"] = "31/02/2019"
    twin_of = line_of(broken, family_number(31)) - 2
    broken.insert(twin_of + 1, dict(broken[twin_of]))
    orphan = dict(broken[100])
    orphan["N° famille"] = ""
    broken.insert(150, orphan)
    phone_line = next(i for i, r in enumerate(broken) if r["Téléphone portable"] == "06 12 34") + 2
    date_line = (
        next(i for i, r in enumerate(broken) if r["Enfant date de naissance"] == "31/02/2019") + 2
    )
    twin_line = twin_of + 3
    orphan_line = 152
    content = to_csv(broken, encoding="cp1252")

    report = await preview(commune, structure, content)

    assert (
        report.table is not None
        and report.table.encoding == "windows-1252"
        and report.table.delimiter == ";"
    )
    assert {(p.line, p.column, p.code) for p in report.parsed.problems} == {
        (phone_line, "Téléphone portable", "phone"),
        (twin_line, "Enfant prénom", "duplicate_child"),
        (date_line, "Enfant date de naissance", "date"),
        (orphan_line, "N° famille", "missing_number"),
    }
    text = french(report)
    assert "4 erreurs : rien ne pourra être importé tant qu’elles ne sont pas corrigées." in text
    assert (
        f"Ligne {phone_line}, colonne « Téléphone portable » (« 06 12 34 ») : Ce numéro de téléphone n’est pas valable"
        in text
    )
    assert (
        f"Ligne {date_line}, colonne « Enfant date de naissance » (« 31/02/2019 ») : Cette date n’existe pas"
        in text
    )
    assert (
        f"Ligne {twin_line}, colonne « Enfant prénom »" in text
        and f"déjà à la ligne {twin_line - 1} de cette famille" in text
    )
    assert f"Ligne {orphan_line}, colonne « N° famille » : Le N° famille manque" in text
    refused = await apply(commune, structure, content)
    assert refused.outcome is ImportOutcome.REFUSED and await count(commune, Family) == 0

    fixed = to_csv(rows, encoding="cp1252")
    applied = await apply(commune, structure, fixed)
    assert applied.outcome is ImportOutcome.APPLIED
    children = len(rows)
    assert {
        k: applied.counts[k] for k in ("created", "updated", "unchanged", "children_created")
    } == {"created": 2000, "updated": 0, "unchanged": 0, "children_created": children}
    assert await count(commune, Family) == 2000 and await count(commune, Child) == children
    async with commune.unit_of_work() as uow:
        helene = await uow.repos.families.get_by_number(family_number(0))
        assert helene is not None
        responsable = helene.guardian(GuardianRole.RESPONSABLE)
        assert (responsable.last_name, responsable.first_name, responsable.phone_mobile) == (
            "MARTIN",
            "Hélène",
            "06 00 00 00 00",
        )
        assert (
            str(helene.quotient_familial) == "400.50"
            and helene.guardian(GuardianRole.CONJOINT).first_name == "Noël"
        )
        coeur = await uow.repos.families.get_by_number(family_number(11))
        assert coeur.guardian(GuardianRole.RESPONSABLE).last_name == "CŒURDEROI"
        kids = await uow.repos.families.children(helene.id)
        assert sorted(k.first_name for k in kids) == ["Jade", "Léo"]
        enrolments = (
            (await uow.session.execute(select(Enrolment).where(Enrolment.family_id == helene.id)))
            .scalars()
            .all()
        )
        assert sorted(e.regular_weekdays or "" for e in enrolments) == ["", "", "mon,tue,thu,fri"]

    again = await apply(commune, structure, fixed)
    assert (again.counts["created"], again.counts["updated"], again.counts["unchanged"]) == (
        0,
        0,
        2000,
    )
    assert (again.counts["children_created"], again.counts["children_updated"]) == (0, 0)
    assert await count(commune, Child) == children

    rows[line_of(rows, family_number(1234)) - 2]["Téléphone portable"] = "06 99 88 77 66"
    updated = await apply(commune, structure, to_csv(rows, encoding="cp1252"))
    assert (updated.counts["created"], updated.counts["updated"], updated.counts["unchanged"]) == (
        0,
        1,
        1999,
    )
    assert "Téléphone portable : 06 00 00 12 34 → 06 99 88 77 66" in french(updated)
    async with commune.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(family_number(1234))
        assert family.guardian(GuardianRole.RESPONSABLE).phone_mobile == "06 99 88 77 66"
        audits = [
            (e.action, e.outcome, e.details.get("created"))
            for e in await uow.repos.audit.entries()
            if e.action.startswith("import.")
        ]
    assert audits == [
        ("import.preview", "ok", None),
        ("import.apply", "refused", None),
        ("import.apply", "ok", 2000),
        ("import.apply", "ok", 0),
        ("import.apply", "ok", 0),
    ]


async def test_the_errors_csv_neutralises_formulas(commune: Database, structure: Structure) -> None:
    rows = family_rows(2)
    rows[0]["Téléphone portable"] = '=HYPERLINK("http://x")'
    report = await preview(commune, structure, to_csv(rows))
    with use_language("fr"):
        csv_text = errors_csv(report.parsed.problems).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and ";=HYPERLINK" not in csv_text


async def test_a_comma_separated_utf8_file_and_an_xlsx_sheet_read_alike(
    commune: Database, structure: Structure
) -> None:
    rows = family_rows(5)
    as_csv = await preview(commune, structure, to_csv(rows, delimiter=","))
    workbook = write_xlsx(HEADERS, [[row.get(h, "") for h in HEADERS] for row in rows])
    as_xlsx = await preview(commune, structure, workbook, "familles.xlsx")
    assert as_csv.table.delimiter == "," and as_xlsx.table.encoding == "xlsx"
    assert as_csv.counts == as_xlsx.counts and as_csv.counts["created"] == 5


async def test_a_value_a_parent_changed_since_the_last_import_is_kept_and_reported(
    any_database: Database, structure: Structure
) -> None:
    async with any_database.transaction() as uow:
        await sync_structure(uow, structure)
    rows = family_rows(3)
    assert (await apply(any_database, structure, to_csv(rows))).outcome is ImportOutcome.APPLIED
    number = family_number(1)
    async with any_database.transaction() as uow:  # a parent of the family uses the bot
        family = await uow.repos.families.get_by_number(number)
        await uow.repos.telegram.get_or_create_user(101)
        uow.repos.telegram.add_link(
            TelegramLink(
                family_id=family.id, telegram_user_id=101, linked_at=NOW, linked_by="invite"
            )
        )
    submitted = await submit_form(
        any_database,
        101,
        form_code="responsable",
        values={"phone_mobile": "0611223344"},
        now=NOW,
        today=TODAY,
    )
    assert submitted.outcome is SubmitOutcome.SUBMITTED
    async with any_database.transaction() as uow:
        await decide_request(
            uow, submitted.request.id, accept=True, staff_id=STAFF, staff_name="Claire", now=NOW
        )

    same_file = await apply(any_database, structure, to_csv(rows))
    assert same_file.counts["conflicts"] == 1 and same_file.counts["updated"] == 0
    text = french(same_file)
    assert (
        "Téléphone portable : actuellement « 06 11 22 33 44 », fichier « 06 00 00 00 01 »" in text
    )
    assert "la valeur actuelle est conservée" in text
    async with any_database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        assert family.guardian(GuardianRole.RESPONSABLE).phone_mobile == "06 11 22 33 44"

    overwritten = await apply(any_database, structure, to_csv(rows), overwrite=True)
    assert overwritten.counts[
        "updated"
    ] == 1 and "la valeur du fichier est prise (--overwrite)" in french(overwritten)
    async with any_database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        assert family.guardian(GuardianRole.RESPONSABLE).phone_mobile == "06 00 00 00 01"


async def test_nothing_is_removed_without_prune_which_lists_first(
    commune: Database, structure: Structure
) -> None:
    rows = family_rows(4)
    await apply(commune, structure, to_csv(rows))
    fewer = [row for row in rows if row["N° famille"] != family_number(2)]
    fewer = [
        row
        for row in fewer
        if not (row["N° famille"] == family_number(0) and row["Enfant prénom"] == "Jade")
    ]

    kept = await apply(commune, structure, to_csv(fewer))
    assert kept.counts["removed"] == 0 and await count(commune, Family) == 4
    assert (
        "1 famille enregistrée n’est pas dans le fichier : conservée (--prune pour la supprimer)."
        in french(kept)
    )
    listed = await preview(commune, structure, to_csv(fewer), prune=True)
    text = french(listed)
    assert "Familles enregistrées absentes du fichier, à supprimer (--prune) :" in text
    assert (
        f"Famille {family_number(2)} (THOMAS Gaëlle)" in text
        and "enfant à retirer : Jade MARTIN" in text
    )
    assert await count(commune, Family) == 4

    pruned = await apply(commune, structure, to_csv(fewer), prune=True)
    assert pruned.counts["removed"] == 1 and pruned.counts["children_removed"] == 1
    assert await count(commune, Family) == 3
    async with commune.unit_of_work() as uow:
        first = await uow.repos.families.get_by_number(family_number(0))
        assert [c.first_name for c in await uow.repos.families.children(first.id)] == ["Léo"]


async def test_an_import_of_a_file_with_a_wrong_header_names_the_missing_column(
    commune: Database, structure: Structure
) -> None:
    content = to_csv(family_rows(1), headers=[h for h in HEADERS if h != "Enfant nom"])
    report = await preview(commune, structure, content)
    assert [(p.line, p.column, p.code) for p in report.parsed.problems] == [
        (1, "Enfant nom", "missing_column")
    ]
    unreadable = await preview(commune, structure, b"PK\x03\x04garbage", "familles.xlsx")
    assert unreadable.table_error == "unreadable" and "ne peut pas être lu" in french(unreadable)


async def test_guardians_of_a_new_family_are_complete(
    commune: Database, structure: Structure
) -> None:
    await apply(commune, structure, to_csv(family_rows(1)))
    async with commune.unit_of_work() as uow:
        guardians = (await uow.session.execute(select(Guardian))).scalars().all()
    assert sorted(
        (g.role.value, g.first_name, g.email or "", g.email_consent, g.sms_consent)
        for g in guardians
    ) == [
        ("conjoint", "Noël", "", False, False),
        ("responsable", "Hélène", "famille0@example.fr", True, False),
    ]
