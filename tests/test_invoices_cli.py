"""`portail-famille invoices issue --month YYYY-MM`: issues once, says what it did."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import time_machine

from bot import cli
from bot.domain.model import DayStatus
from storage.db import Database
from tests.support.money import MARTIN, add_days


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No .env of the developer's, no token; a database in tmp_path; 5 December 2026."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_USERNAME", "ADMIN_CHAT_ID", "STAFF_USER_IDS", "STRUCTURE_FILE", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}")
    return tmp_path


def _add_november_meals(path: Path) -> None:
    async def add() -> None:
        db = Database(f"sqlite+aiosqlite:///{path / 'pf.db'}")
        try:
            await add_days(db, MARTIN, "CHLOÉ", "cantine", [2, 3], DayStatus.PRESENT, month=(2026, 11))
        finally:
            await db.dispose()

    asyncio.run(add())


@time_machine.travel(dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.timezone.utc), tick=False)
def test_issue_a_month_from_the_command_line(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0
    _add_november_meals(isolated_env)
    capsys.readouterr()

    assert cli.main(["invoices", "issue", "--month", "2026-11"]) == 0
    out = capsys.readouterr().out
    assert "2026-11: 1 invoice(s) issued (AL-37 to AL-37), total 8.20 EUR; 0 already issued" in out
    assert "TELEGRAM_BOT_TOKEN is not set" in out

    assert cli.main(["invoices", "issue", "--month", "2026-11"]) == 0
    assert "0 invoice(s) issued, total 0.00 EUR; 1 already issued" in capsys.readouterr().out


@time_machine.travel(dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.timezone.utc), tick=False)
@pytest.mark.parametrize(("month", "code", "message"), [("2026-13", 2, "is not of the form YYYY-MM"), ("2026-12", 1, "not over yet")])
def test_a_bad_or_unfinished_month_issues_nothing(month: str, code: int, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0
    assert cli.main(["invoices", "issue", "--month", month]) == code
    assert message in capsys.readouterr().err
