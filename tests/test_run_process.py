"""`portail-famille run` as a real process: migrates, answers a parent through the local Bot API
stand-in, and stops cleanly on SIGTERM (as `make run` does on Ctrl-C). The database is named by
DATABASE_URL, so it is a real one: the demo is not loaded into it, and the output says how."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.support.botapi import DEFAULT_TOKEN, BotApiStub

CLI = Path(sys.executable).parent / "portail-famille"


async def test_the_bot_process_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with BotApiStub(token=DEFAULT_TOKEN) as stub:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": stub.base_url,
            "TELEGRAM_API_BASE_FILE_URL": stub.base_file_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}",
            "REMINDER_INTERVAL_SECONDS": "0",
        }
        process = await asyncio.create_subprocess_exec(
            str(CLI),
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await stub.next_call(method="getUpdates", timeout=60)  # polling has started
            jean = stub.user(101, "Jean")
            await jean.send_command("/start")
            assert "Bienvenue sur le Portail Famille" in (await jean.next_message(timeout=30)).text
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, output.decode()[-2000:]
    assert b"demo structure loaded" not in output
    assert b"portail-famille import families FILE" in output and b"portail-famille demo" in output
