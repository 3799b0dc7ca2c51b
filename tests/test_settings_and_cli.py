"""Settings validation and the command line (run without token, demo, invite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from bot.settings import SettingsError, load_settings

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No .env of the developer's, no inherited setting; a database in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_BOT_USERNAME",
        "ADMIN_CHAT_ID",
        "STAFF_USER_IDS",
        "STRUCTURE_FILE",
        "TIMEZONE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("DATABASE_URL", "mysql://x"),
        ("ADMIN_CHAT_ID", "group"),
        ("STAFF_USER_IDS", "12,abc"),
        ("STRUCTURE_FILE", "/nonexistent/structure.yaml"),
        ("TIMEZONE", "Mars/Olympus"),
        ("TELEGRAM_API_BASE_URL", "ftp://x"),
        ("INVITE_TTL_DAYS", "0"),
    ],
)
def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_settings_from_dotenv_and_postgres_url_normalised(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL")
    (isolated_env / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nDATABASE_URL=postgresql://u:p@db/pf\nSTAFF_USER_IDS=1, 2\nADMIN_CHAT_ID=\n"
    )
    settings = load_settings()
    assert settings.telegram_bot_token == TOKEN
    assert settings.database_url == "postgresql+asyncpg://u:p@db/pf"
    assert settings.staff_ids == {1, 2}
    assert settings.admin_chat_id is None


def test_run_without_token_explains_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err and "@BotFather" in err and ".env" in err


def test_bad_setting_stops_any_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMEZONE", "Nowhere/City")
    assert cli.main(["db", "upgrade"]) == 2
    assert "TIMEZONE" in capsys.readouterr().err


def test_demo_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0
    assert "2 new families" in capsys.readouterr().out
    assert cli.main(["demo"]) == 0
    assert "0 new families" in capsys.readouterr().out


def test_invite_prints_a_one_time_link_and_writes_a_qr_code(
    monkeypatch: pytest.MonkeyPatch, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@PortailFamilleBot")
    assert cli.main(["demo"]) == 0
    qr = isolated_env / "invite.png"
    assert cli.main(["invite", "1001001818331", "--qr", str(qr)]) == 0
    first_line = capsys.readouterr().out.splitlines()[-3]
    assert first_line.startswith("https://t.me/PortailFamilleBot?start=")
    assert len(first_line.split("start=")[1]) >= 20
    assert qr.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_invite_for_unknown_family_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "PortailFamilleBot")
    assert cli.main(["demo"]) == 0
    assert cli.main(["invite", "42"]) == 1
    assert "no family" in capsys.readouterr().err
