"""The command line of a commune's first day: template, import (dry run, apply), letters,
export; and the demo kept out of a real database."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot import cli
from bot.settings import load_settings
from bot.structure import load_structure
from storage.db import Database
from tests.support.families_file import family_number, family_rows, to_csv


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No .env of the developer's; a database named by DATABASE_URL in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "ADMIN_CHAT_ID",
        "STAFF_USER_IDS",
        "STRUCTURE_FILE",
        "TIMEZONE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "PortailFamilleBot")
    return tmp_path


async def _families(tmp_path: Path) -> list[str]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}")
    try:
        async with database.unit_of_work() as uow:
            return [family.number for family in await uow.repos.imports.families()]
    finally:
        await database.dispose()


async def _staff_notices(tmp_path: Path) -> list[tuple[str, int]]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}")
    try:
        async with database.unit_of_work() as uow:
            rows = await uow.repos.outbox.of_template(
                "import.applied"
            ) + await uow.repos.outbox.of_template("letters.issued")
            return [
                (
                    row.template,
                    row.params.get("counts", {}).get("created", row.params.get("families")),
                )
                for row in rows
                if row.audience == "staff"
            ]
    finally:
        await database.dispose()


def test_template_import_letters_and_export_from_the_command_line(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["import", "template", "modele.csv"]) == 0
    header = (isolated_env / "modele.csv").read_bytes().decode("utf-8-sig").splitlines()[0]
    assert header.startswith("N° famille;Civilité;Nom;Prénom") and header.endswith(";Services")
    assert cli.main(["import", "template", "modele.xlsx"]) == 0
    assert (isolated_env / "modele.xlsx").read_bytes()[:2] == b"PK"

    rows = family_rows(3)
    rows[0]["Email"] = "pas-une-adresse"
    (isolated_env / "familles.csv").write_bytes(to_csv(rows, encoding="cp1252"))
    capsys.readouterr()
    assert cli.main(["import", "families", "familles.csv"]) == 1
    out = capsys.readouterr().out
    assert (
        "Ligne 2, colonne « Email » (« pas-une-adresse ») : Cette adresse email n’est pas valable"
        in out
    )
    assert cli.main(["import", "families", "familles.csv", "--apply"]) == 1
    assert asyncio.run(_families(isolated_env)) == []

    rows[0]["Email"] = "famille0@example.fr"
    (isolated_env / "familles.csv").write_bytes(to_csv(rows, encoding="cp1252"))
    assert cli.main(["import", "families", "familles.csv"]) == 0
    out = capsys.readouterr().out
    assert (
        "simulation, rien n’a été enregistré" in out
        and "Familles : 3 à créer" in out
        and "--apply" in out
    )
    assert cli.main(["import", "families", "familles.csv", "--apply"]) == 0
    assert "Import de familles.csv : appliqué" in capsys.readouterr().out
    assert sorted(asyncio.run(_families(isolated_env))) == [family_number(i) for i in range(3)]
    assert asyncio.run(_staff_notices(isolated_env)) == [
        ("import.applied", 3)
    ]  # the group hears of it

    assert cli.main(["letters", "--out", "lettres.pdf", "--unlinked"]) == 0
    assert "3 letter(s) written to lettres.pdf" in capsys.readouterr().out
    pages = PdfReader(io.BytesIO((isolated_env / "lettres.pdf").read_bytes())).pages
    assert len(pages) == 3
    codes = [re.findall(r"start=([A-Za-z0-9_-]+)", page.extract_text())[0] for page in pages]
    assert len(set(codes)) == 3
    assert asyncio.run(_staff_notices(isolated_env)) == [
        ("import.applied", 3),
        ("letters.issued", 3),
    ]
    assert (
        cli.main(["letters", "--out", "une.pdf", "--family", family_number(1), "--family", "999"])
        == 1
    )
    captured = capsys.readouterr()
    assert (
        "1 letter(s) written" in captured.out
        and "1 earlier invitation(s)" in captured.out
        and "999" in captured.err
    )

    assert cli.main(["export", "invoices", "--month", "2026-13"]) == 2
    assert cli.main(["export", "invoices", "--month", "2026-11", "--out-dir", "compta"]) == 0
    lines = list(
        csv.reader(
            io.StringIO(
                (isolated_env / "compta" / "factures-2026-11.csv").read_bytes().decode("utf-8-sig")
            ),
            delimiter=";",
        )
    )
    assert lines[0][:3] == ["N° facture", "Date de facture", "Date d’échéance"] and len(lines) == 1
    assert (isolated_env / "compta" / "reglements-2026-11.csv").is_file()


def test_a_database_named_by_database_url_never_gets_the_demo_on_its_own(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    structure = load_structure(settings.structure_file)
    assert not cli.demo_welcome(settings)
    assert asyncio.run(cli._prepare(settings, structure, demo="when_empty")) == 0
    assert "portail-famille demo" in capsys.readouterr().out
    assert asyncio.run(_families(isolated_env)) == []
    assert cli.main(["demo"]) == 0  # said on purpose
    assert len(asyncio.run(_families(isolated_env))) == 2


def test_the_default_embedded_database_welcomes_a_newcomer_with_the_demo(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL")
    assert cli.demo_welcome(load_settings(_env_file=None))
    monkeypatch.setattr(
        cli, "demo_welcome", lambda settings: True
    )  # as if it were the default database
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{isolated_env / 'pf.db'}")
    settings = load_settings()
    structure = load_structure(settings.structure_file)
    assert asyncio.run(cli._prepare(settings, structure, demo="when_empty")) == 2


def test_a_database_ever_imported_into_never_gets_the_demo(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "demo_welcome", lambda settings: True)
    rows = family_rows(1)
    (isolated_env / "familles.csv").write_bytes(to_csv(rows))
    assert cli.main(["import", "families", "familles.csv", "--apply", "--prune"]) == 0
    (isolated_env / "vide.csv").write_bytes(to_csv([]))
    assert (
        cli.main(["import", "families", "vide.csv", "--apply", "--prune"]) == 0
    )  # every family pruned
    assert asyncio.run(_families(isolated_env)) == []
    settings = load_settings()
    assert (
        asyncio.run(
            cli._prepare(settings, load_structure(settings.structure_file), demo="when_empty")
        )
        == 0
    )
    assert asyncio.run(_families(isolated_env)) == []
