"""`portail-famille structure add | list | disable | enable`, and `--structure SLUG` on the
commands acting on one structure's data (import, invite)."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot import cli
from bot.services.linking import hash_code
from bot.settings import DEMO_STRUCTURE_FILE, load_settings
from bot.structure import load_structure
from bot.structures_cli import slug_from_name
from bot.tenancy import served_structures
from storage.db import Database
from storage.models import DEFAULT_STRUCTURE_ID, StructureRecord
from tests.conftest import _drop_postgres, _postgres_database
from tests.support.families_file import family_number, family_rows, to_csv

TOKEN_A = "111111:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
TOKEN_B = "222222:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
TOKEN_C = "333333:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
DEMO_TEXT = DEMO_STRUCTURE_FILE.read_text(encoding="utf-8")


@pytest.fixture(params=["sqlite"])
def isolated_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Path]:
    """No .env of the developer's; a database named by DATABASE_URL (SQLite in tmp_path, or a
    new PostgreSQL database for the tests parametrized with "postgresql"); two structure files:
    the demo's (Saint-Jean) and Riaillé's."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_BOT_USERNAME",
        "ADMIN_CHAT_ID",
        "STAFF_USER_IDS",
        "STRUCTURE_FILE",
        "TIMEZONE",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "saint-jean.yaml").write_text(DEMO_TEXT, encoding="utf-8")
    (tmp_path / "riaille.yaml").write_text(_riaille(), encoding="utf-8")
    if request.param == "sqlite":
        monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}")
        yield tmp_path
        return
    database, name = asyncio.run(_postgres_database())
    asyncio.run(database.dispose())
    monkeypatch.setenv("DATABASE_URL", database.url)
    try:
        yield tmp_path
    finally:
        asyncio.run(_drop_postgres(name))


def _riaille(service_name: str = "Accueil du matin") -> str:
    """The demo's structure file with another name and another name for a service."""
    text = DEMO_TEXT.replace('name: "Mairie de Saint-Jean"', 'name: "Mairie de Riaillé"')
    return text.replace('name: "Garderie matin"', f'name: "{service_name}"')


def _database() -> Database:
    return Database(load_settings().database_url)


async def _records() -> list[StructureRecord]:
    database = _database()
    try:
        async with database.registry().unit_of_work(read_only=True) as uow:
            return list(await uow.repos.registry.all())
    finally:
        await database.dispose()


def _id(slug: str) -> int:
    return next(record.id for record in asyncio.run(_records()) if record.slug == slug)


async def _families_of(structure_id: int) -> list[str]:
    database = _database().for_structure(structure_id)
    try:
        async with database.unit_of_work(read_only=True) as uow:
            return sorted(family.number for family in await uow.repos.imports.families())
    finally:
        await database.dispose()


async def _service_names(structure_id: int) -> dict[str, str]:
    database = _database().for_structure(structure_id)
    try:
        async with database.unit_of_work(read_only=True) as uow:
            return {service.code: service.name for service in await uow.repos.structure.services()}
    finally:
        await database.dispose()


def _add(*args: str) -> int:
    return cli.main(["structure", "add", *args])


def test_a_slug_is_made_from_the_structures_name() -> None:
    assert slug_from_name("Mairie de Riaillé") == "riaille"
    assert slug_from_name("Mairie d’Esserts-Blay") == "esserts-blay"
    assert slug_from_name("Mairie de La Baule") == "la-baule"
    assert slug_from_name("SIVOM de la Vallée du Lot") == "sivom-de-la-vallee-du-lot"
    assert slug_from_name("Mairie") == "mairie"
    assert slug_from_name("« »") == ""


def test_two_structures_added_from_yaml_are_listed_without_their_tokens_or_secrets(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
    assert (
        _add(
            "saint-jean.yaml",
            TOKEN_A,
            "--admin-chat-id",
            "-1001",
            "--staff-user-ids",
            "7, 8",
            "--username",
            "@SaintJeanBot",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "structure 2 added: saint-jean, Mairie de Saint-Jean" in out
    assert "webhook path: /tg/saint-jean (https://bot.example.org/tg/saint-jean)" in out
    assert _add("riaille.yaml", TOKEN_B, "--timezone", "Indian/Reunion") == 0
    out = capsys.readouterr().out
    assert "structure 3 added: riaille, Mairie de Riaillé" in out and "/tg/riaille" in out

    records = {record.slug: record for record in asyncio.run(_records())}
    assert sorted(records) == ["default", "riaille", "saint-jean"]
    saint_jean, riaille = records["saint-jean"], records["riaille"]
    assert (saint_jean.bot_token, saint_jean.bot_username) == (TOKEN_A, "SaintJeanBot")
    assert (saint_jean.admin_chat_id, saint_jean.staff_user_ids) == (-1001, "7,8")
    assert (saint_jean.timezone, riaille.timezone) == ("Europe/Paris", "Indian/Reunion")
    assert riaille.configuration == _riaille() and riaille.enabled
    secrets = [saint_jean.webhook_secret, riaille.webhook_secret]
    assert all(secrets) and len(set(secrets)) == 2
    # its configuration is mirrored into its own tables only
    assert asyncio.run(_service_names(riaille.id))["garderie_matin"] == "Accueil du matin"
    assert asyncio.run(_service_names(saint_jean.id))["garderie_matin"] == "Garderie matin"

    assert cli.main(["structure", "list"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split("\t")[:4] for line in lines] == [
        ["1", "default", "Mairie de Saint-Jean (.env)", "enabled"],
        ["2", "saint-jean", "Mairie de Saint-Jean", "enabled"],
        ["3", "riaille", "Mairie de Riaillé", "enabled"],
    ]
    assert lines[1].split("\t")[4:] == [
        "@SaintJeanBot",
        "group -1001",
        "Europe/Paris",
        "0 families",
    ]
    assert lines[2].split("\t")[4:] == ["bot 222222", "no group", "Indian/Reunion", "0 families"]
    for secret in (TOKEN_A, TOKEN_B, *secrets, TOKEN_A.split(":")[1], TOKEN_B.split(":")[1]):
        assert secret is not None and secret not in captured.out + captured.err


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("structure: [unclosed\n", "not valid YAML"),
        (
            DEMO_TEXT.replace("school_holiday_zone: C", "school_holiday_zone: Z"),
            "school_holiday_zone",
        ),
        (DEMO_TEXT.replace("    regie: AL\n", "    regie: XX\n", 1), "services[0].regie"),
        ("- just\n- a list\n", "(root)"),
    ],
)
def test_a_bad_structure_file_is_refused_naming_where_and_nothing_is_written(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], content: str, named: str
) -> None:
    (isolated_env / "bad.yaml").write_text(content, encoding="utf-8")
    assert _add("bad.yaml", TOKEN_A) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and named in err
    assert _add("missing.yaml", TOKEN_A) == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert not (isolated_env / "pf.db").exists()  # refused before the database is even opened


def test_a_used_token_a_bad_token_a_bad_slug_or_option_is_refused_and_nothing_is_written(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _add("riaille.yaml", TOKEN_A) == 0
    assert _add("saint-jean.yaml", TOKEN_C) == 0
    before = [(r.slug, r.bot_token, r.configuration) for r in asyncio.run(_records())]
    capsys.readouterr()
    refused = {
        "used token": ["saint-jean.yaml", TOKEN_A],
        "bad token": ["saint-jean.yaml", "not-a-token"],
        "bad slug": ["saint-jean.yaml", TOKEN_B, "--slug", "Saint Jean"],
        "slug too long": ["saint-jean.yaml", TOKEN_B, "--slug", "a" * 41],
        "the .env slug": ["saint-jean.yaml", TOKEN_B, "--slug", "default"],
        "bad time zone": ["saint-jean.yaml", TOKEN_B, "--timezone", "Mars/Olympus"],
        "bad staff id": ["saint-jean.yaml", TOKEN_B, "--staff-user-ids", "12,abc"],
        "bad username": ["saint-jean.yaml", TOKEN_B, "--username", "no spaces allowed"],
        "another structure's token on update": ["riaille.yaml", TOKEN_C],
        "another structure's token on a new slug": ["riaille.yaml", TOKEN_A, "--slug", "autre"],
    }
    for why, args in refused.items():
        assert _add(*args) == 2, why
        captured = capsys.readouterr()
        assert captured.err.startswith("portail-famille: "), why
        assert TOKEN_C not in captured.err and TOKEN_A not in captured.err, why
    assert _add("riaille.yaml", TOKEN_C) == 2
    assert "already the bot of structure saint-jean" in capsys.readouterr().err
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN_B)
    assert _add("saint-jean.yaml", TOKEN_B, "--slug", "autre") == 2  # the bot of .env
    assert "the bot of .env" in capsys.readouterr().err
    after = [(r.slug, r.bot_token, r.configuration) for r in asyncio.run(_records())]
    assert after == before


def test_disable_stops_serving_a_structure_at_the_next_start_and_enable_serves_it_again(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add("riaille.yaml", TOKEN_A) == 0
    assert _add("saint-jean.yaml", TOKEN_B) == 0
    capsys.readouterr()

    async def served() -> list[str]:
        settings = load_settings()
        database = Database(settings.database_url)
        try:
            structures = await served_structures(
                settings, database, load_structure(settings.structure_file)
            )
            return [item.slug for item in structures]
        finally:
            await database.dispose()

    assert asyncio.run(served()) == ["riaille", "saint-jean"]
    assert cli.main(["structure", "disable", "riaille"]) == 0
    assert "stops serving it at its next start" in capsys.readouterr().out
    record = next(r for r in asyncio.run(_records()) if r.slug == "riaille")
    assert not record.enabled and record.disabled_at is not None
    assert asyncio.run(served()) == ["saint-jean"]
    assert cli.main(["structure", "list"]) == 0
    assert "\triaille\tMairie de Riaillé\tdisabled\t" in capsys.readouterr().out
    assert cli.main(["structure", "disable", "riaille"]) == 0
    assert "already disabled" in capsys.readouterr().out

    assert cli.main(["structure", "disable", "nowhere"]) == 1
    assert "no structure has the short name 'nowhere'" in capsys.readouterr().err
    assert cli.main(["structure", "disable", "default"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err

    assert _add("riaille.yaml", TOKEN_A) == 0  # updating keeps it disabled, and says so
    assert "structure enable riaille" in capsys.readouterr().out
    assert cli.main(["structure", "enable", "riaille"]) == 0
    record = next(r for r in asyncio.run(_records()) if r.slug == "riaille")
    assert record.enabled and record.disabled_at is None
    assert asyncio.run(served()) == ["riaille", "saint-jean"]


def test_adding_again_with_the_same_slug_updates_its_configuration_bot_and_options(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add("riaille.yaml", TOKEN_A, "--admin-chat-id", "-1001", "--username", "RBot") == 0
    assert _add("saint-jean.yaml", TOKEN_B) == 0
    first = next(r for r in asyncio.run(_records()) if r.slug == "riaille")
    capsys.readouterr()

    (isolated_env / "riaille.yaml").write_text(_riaille("Garderie du matin"), encoding="utf-8")
    assert _add("riaille.yaml", TOKEN_C, "--timezone", "America/Cayenne") == 0
    assert "structure 2 updated" in capsys.readouterr().out
    again = next(r for r in asyncio.run(_records()) if r.slug == "riaille")
    assert again.id == first.id and len(asyncio.run(_records())) == 3
    assert again.configuration == _riaille("Garderie du matin")
    assert (again.bot_token, again.bot_username) == (TOKEN_C, None)  # another bot
    assert (again.admin_chat_id, again.timezone) == (-1001, "America/Cayenne")  # kept, changed
    assert again.webhook_secret == first.webhook_secret
    assert asyncio.run(_service_names(again.id))["garderie_matin"] == "Garderie du matin"
    assert asyncio.run(_service_names(_id("saint-jean")))["garderie_matin"] == "Garderie matin"


@pytest.mark.parametrize("isolated_env", ["sqlite", "postgresql"], indirect=True)
def test_import_families_with_structure_puts_the_families_in_that_structure_only(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add("riaille.yaml", TOKEN_A) == 0
    assert _add("saint-jean.yaml", TOKEN_B) == 0
    riaille, saint_jean = _id("riaille"), _id("saint-jean")
    (isolated_env / "familles.csv").write_bytes(to_csv(family_rows(3)))
    (isolated_env / "deux.csv").write_bytes(to_csv(family_rows(2)))
    argv = ["import", "families", "familles.csv", "--apply", "--structure", "riaille"]
    assert cli.main(argv) == 0
    assert cli.main(["import", "families", "deux.csv", "--apply"]) == 0  # the .env structure
    numbers = [family_number(i) for i in range(3)]
    assert asyncio.run(_families_of(riaille)) == numbers
    assert asyncio.run(_families_of(DEFAULT_STRUCTURE_ID)) == numbers[:2]
    assert asyncio.run(_families_of(saint_jean)) == []
    capsys.readouterr()
    assert cli.main(["structure", "list"]) == 0
    counts = [line.split("\t")[-1] for line in capsys.readouterr().out.splitlines()]
    assert counts == ["2 families", "3 families", "0 families"]

    assert cli.main(["import", "families", "deux.csv", "--structure", "nowhere"]) == 1
    assert "no structure has the short name 'nowhere'" in capsys.readouterr().err


def test_a_structure_named_in_a_database_without_the_registry_is_refused_clearly(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["invite", family_number(0), "--structure", "riaille"]) == 2
    assert "portail-famille db upgrade" in capsys.readouterr().err


def test_invite_with_structure_creates_an_invite_for_that_structures_family(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "EnvBot")
    assert _add("riaille.yaml", TOKEN_A, "--username", "RiailleBot") == 0
    (isolated_env / "familles.csv").write_bytes(to_csv(family_rows(1)))
    argv = ["import", "families", "familles.csv", "--apply", "--structure", "riaille"]
    assert cli.main(argv) == 0
    capsys.readouterr()

    assert cli.main(["invite", family_number(0)]) == 1  # not a family of the .env structure
    assert cli.main(["invite", family_number(0), "--structure", "riaille"]) == 0
    link = capsys.readouterr().out.splitlines()[0]
    match = re.fullmatch(r"https://t\.me/RiailleBot\?start=([A-Za-z0-9_-]+)", link)
    assert match is not None, link

    async def invite_of(structure_id: int) -> int | None:
        database = _database().for_structure(structure_id)
        try:
            async with database.unit_of_work(read_only=True) as uow:
                invite = await uow.repos.invites.get_by_hash(hash_code(match.group(1)))
                return None if invite is None else invite.family_id
        finally:
            await database.dispose()

    assert asyncio.run(invite_of(_id("riaille"))) is not None
    assert asyncio.run(invite_of(DEFAULT_STRUCTURE_ID)) is None


def test_demo_letters_invoices_and_export_act_for_the_structure_named(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add("riaille.yaml", TOKEN_A, "--username", "RiailleBot") == 0
    riaille = _id("riaille")
    assert cli.main(["demo", "--structure", "riaille"]) == 0
    assert "demo loaded: 2 new families" in capsys.readouterr().out
    assert len(asyncio.run(_families_of(riaille))) == 2
    assert asyncio.run(_families_of(DEFAULT_STRUCTURE_ID)) == []

    assert cli.main(["letters", "--out", "lettres.pdf", "--structure", "riaille"]) == 0
    assert "2 letter(s) written to lettres.pdf" in capsys.readouterr().out
    pages = PdfReader(io.BytesIO((isolated_env / "lettres.pdf").read_bytes())).pages
    text = " ".join(page.extract_text() for page in pages)
    assert "Riaillé" in text and "Saint-Jean" not in text
    assert len(re.findall(r"t\.me/RiailleBot\?start=", text)) == 2
    assert cli.main(["letters", "--out", "env.pdf"]) == 2  # the .env structure has no bot
    assert not (isolated_env / "env.pdf").exists()
    capsys.readouterr()

    assert cli.main(["invoices", "issue", "--month", "2026-13", "--structure", "riaille"]) == 2
    assert cli.main(["invoices", "issue", "--month", "2020-01", "--structure", "riaille"]) == 0
    assert "2020-01: 0 invoice(s) issued" in capsys.readouterr().out
    argv = ["export", "invoices", "--month", "2020-01", "--structure", "riaille"]
    assert cli.main([*argv, "--out-dir", "compta"]) == 0
    assert (isolated_env / "compta" / "factures-2020-01.csv").is_file()
    assert cli.main(["export", "invoices", "--month", "2020-01", "--structure", "x"]) == 1
