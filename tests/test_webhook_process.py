"""`portail-famille run --webhook` as a real process: it serves the webhook on PORT, registers
it with `setWebhook`, answers a parent through it, answers `/healthz`, logs JSON lines when
LOG_FORMAT=json, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from bot.app import HANDLED_UPDATES
from tests.support.botapi import DEFAULT_TOKEN, BotApiStub

CLI = Path(sys.executable).parent / "portail-famille"
SECRET = "process-Secret_42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_the_webhook_process_answers_reports_health_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with BotApiStub(token=DEFAULT_TOKEN) as stub:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": stub.base_url,
            "TELEGRAM_API_BASE_FILE_URL": stub.base_file_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}",
            "REMINDER_INTERVAL_SECONDS": "0",
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "WEBHOOK_SECRET": SECRET,
            "LISTEN_ADDRESS": "127.0.0.1",
            "PORT": str(port),
            "LOG_FORMAT": "json",
        }
        process = await asyncio.create_subprocess_exec(
            str(CLI),
            "run",
            "--webhook",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            call = await stub.next_call(method="setWebhook", timeout=60)
            assert call.params["url"] == f"http://127.0.0.1:{port}/hook"
            assert call.params["secret_token"] == SECRET
            assert call.params["allowed_updates"] == HANDLED_UPDATES
            jean = stub.user(101, "Jean")
            await jean.send_command("/start")
            assert "Bienvenue sur le Portail Famille" in (await jean.next_message(timeout=30)).text
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                health = await client.get("/healthz")
                refused = await client.post("/hook", json={"update_id": 1})
            process.send_signal(signal.SIGTERM)
            _, errors = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    log = errors.decode()
    assert process.returncode == 0, log[-2000:]
    assert health.status_code == 200 and health.json()["database"]["ok"] is True
    assert refused.status_code == 403
    assert stub.calls("getUpdates") == []
    entries = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert any(entry["logger"] == "portail_famille.webhook" for entry in entries)
    assert "Jean" not in log


async def test_in_polling_mode_healthz_and_metrics_are_served_when_port_is_set(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with BotApiStub(token=DEFAULT_TOKEN) as stub:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": stub.base_url,
            "TELEGRAM_API_BASE_FILE_URL": stub.base_file_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}",
            "REMINDER_INTERVAL_SECONDS": "0",
            "LISTEN_ADDRESS": "127.0.0.1",
            "PORT": str(port),
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
            await jean.next_message(timeout=30)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                health = await client.get("/healthz")
                metrics = await client.get("/metrics")
                no_webhook = await client.post("/telegram", json={"update_id": 1})
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, output.decode()[-2000:]
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert 'portail_famille_updates_total{kind="message"} 1.0' in metrics.text
    assert no_webhook.status_code in (404, 405)  # polling: no update route
