"""`portail-famille invoices issue --month YYYY-MM`: issues once, queues the notices, says what it did."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import time_machine

from bot import cli
from bot.domain.model import DayStatus
from bot.services.billing import TEMPLATE_INVOICE_ISSUED
from storage.db import Database
from tests.support.money import MARTIN, add_days, link_account


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No .env of the developer's, no token; a database in tmp_path; 5 December 2026."""
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


def _add_november_meals(path: Path) -> None:
    """CHLOÉ MARTIN ate twice in November; her mother linked her Telegram account."""

    async def add() -> None:
        db = Database(f"sqlite+aiosqlite:///{path / 'pf.db'}")
        try:
            await add_days(
                db, MARTIN, "CHLOÉ", "cantine", [2, 3], DayStatus.PRESENT, month=(2026, 11)
            )
            await link_account(db, MARTIN, 501, "fr")
        finally:
            await db.dispose()

    asyncio.run(add())


def _queued_notices(path: Path) -> list[tuple[int | None, str]]:
    async def read() -> list[tuple[int | None, str]]:
        db = Database(f"sqlite+aiosqlite:///{path / 'pf.db'}")
        try:
            async with db.unit_of_work() as uow:
                rows = await uow.repos.outbox.of_template(TEMPLATE_INVOICE_ISSUED)
                return [(row.chat_id, row.status) for row in rows]
        finally:
            await db.dispose()

    return asyncio.run(read())


@time_machine.travel(dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC), tick=False)
def test_issue_a_month_from_the_command_line(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo"]) == 0
    _add_november_meals(isolated_env)
    capsys.readouterr()

    assert cli.main(["invoices", "issue", "--month", "2026-11"]) == 0
    out = capsys.readouterr().out
    assert (
        "2026-11: 1 invoice(s) issued (AL-37 to AL-37), total 8.20 EUR; 1 already issued, unchanged"
        in out
    )  # the demo's November
    assert "families told: 1 message(s) queued; the bot sends them" in out
    assert _queued_notices(isolated_env) == [(501, "pending")]  # waiting for the bot's sender

    assert cli.main(["invoices", "issue", "--month", "2026-11"]) == 0
    again = capsys.readouterr().out
    assert (
        "0 invoice(s) issued, total 0.00 EUR; 2 already issued" in again
        and "families told: 0 message(s)" in again
    )
    assert _queued_notices(isolated_env) == [(501, "pending")]


@time_machine.travel(dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC), tick=False)
@pytest.mark.parametrize(
    ("month", "code", "message"),
    [("2026-13", 2, "is not of the form YYYY-MM"), ("2026-12", 1, "not over yet")],
)
def test_a_bad_or_unfinished_month_issues_nothing(
    month: str, code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo"]) == 0
    assert cli.main(["invoices", "issue", "--month", month]) == code
    assert message in capsys.readouterr().err
