"""Webhook mode: the real Application served by bot/webhook.py on 127.0.0.1, the Bot API
stand-in posting the updates to it as Telegram does, on both engines; `/healthz`, `/metrics`."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from telegram.error import Conflict

from bot.app import HANDLED_UPDATES, build_application, get_sender
from bot.health import set_scheduler_held
from bot.logging_setup import build_formatter
from bot.runtime import Runtime
from bot.sender import SENDER_LOCK_KEY
from bot.services.outbox import tell_account
from bot.settings import load_settings
from bot.structure import Structure
from bot.webhook import (
    SECRET_HEADER,
    ListenError,
    WebhookServer,
    WebhookWorker,
    build_webhook_app,
)
from storage.db import Database
from storage.locks import AdvisoryLock
from tests.support.botapi import DEFAULT_TOKEN, BotApiStub

SECRET = "webhook-Secret_0123456789"
WELCOME = "Bienvenue sur le Portail Famille"


def free_port() -> int:
    """A port free on 127.0.0.1 now (bound then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Clock:
    """A settable clock for the runtime."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def botapi() -> AsyncIterator[BotApiStub]:
    async with BotApiStub(token=DEFAULT_TOKEN) as stub:
        yield stub


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC))


@pytest.fixture
def runtime(
    any_demo_database: Database, structure: Structure, botapi: BotApiStub, clock: Clock
) -> Runtime:
    port = free_port()
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=DEFAULT_TOKEN,
        telegram_api_base_url=botapi.base_url,
        telegram_api_base_file_url=botapi.base_file_url,
        database_url=any_demo_database.url,
        reminder_interval_seconds=0,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret=SECRET,
        listen_address="127.0.0.1",
        port=port,
    )
    return Runtime(settings=settings, database=any_demo_database, structure=structure, clock=clock)


@pytest.fixture
async def worker(runtime: Runtime) -> AsyncIterator[WebhookWorker]:
    """The bot in webhook mode, as `portail-famille run --webhook` runs it."""
    application = build_application(runtime, persistence_interval=0.1)
    worker = WebhookWorker(application, runtime, allowed_updates=HANDLED_UPDATES)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def get(worker: WebhookWorker, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=worker.server.url) as client:
        return await client.get(path)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus page, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(page: dict[Any, float], name: str, **labels: str) -> float:
    return page.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_an_update_posted_with_the_secret_is_answered(
    botapi: BotApiStub, worker: WebhookWorker
) -> None:
    jean = botapi.user(101, "Jean")
    await jean.send_command("/start")
    assert WELCOME in (await jean.next_message(timeout=10)).text
    assert [d.status for d in botapi.webhook_deliveries] == [200]
    assert botapi.webhook_deliveries[0].url == worker.runtime.settings.webhook_address
    assert botapi.calls("getUpdates") == []  # no polling at all


async def test_setwebhook_sends_the_secret_the_handled_kinds_and_keeps_pending_updates(
    botapi: BotApiStub, worker: WebhookWorker
) -> None:
    assert botapi.webhook == {
        "url": worker.runtime.settings.webhook_address,
        "secret_token": SECRET,
        "allowed_updates": HANDLED_UPDATES,
        "drop_pending_updates": False,
        "max_connections": None,
    }
    assert {"message", "callback_query", "my_chat_member", "pre_checkout_query"} <= set(
        HANDLED_UPDATES
    )


@pytest.mark.parametrize("secret", [None, "not-the-secret"], ids=["missing", "wrong"])
async def test_an_update_without_the_right_secret_gets_403_and_nothing_is_processed(
    botapi: BotApiStub, worker: WebhookWorker, secret: str | None
) -> None:
    assert botapi.webhook is not None
    botapi.webhook["secret_token"] = secret  # Telegram posting with another secret, or none
    jean = botapi.user(101, "Jean")
    await jean.send_command("/start")
    await botapi.expect_silence(101, window=0.5)
    refused = [d.status for d in botapi.webhook_deliveries]
    assert refused and set(refused) == {403}  # re-sent, refused every time
    botapi.webhook["secret_token"] = SECRET  # the same update, now with the secret
    assert WELCOME in (await jean.next_message(timeout=10)).text
    assert botapi.webhook_deliveries[-1].status == 200


async def test_a_body_that_is_not_an_update_gets_400(worker: WebhookWorker) -> None:
    async with httpx.AsyncClient(base_url=worker.server.url) as client:
        response = await client.post(
            "/telegram", content=b"[1, 2]", headers={SECRET_HEADER: SECRET}
        )
        forbidden = await client.post("/telegram", content=b"{}")
    assert response.status_code == 400 and forbidden.status_code == 403


async def test_healthz_reports_the_database_the_scheduler_and_the_outbox(
    botapi: BotApiStub, worker: WebhookWorker
) -> None:
    response = await get(worker, "/healthz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "error": None}
    assert body["scheduler"]["held"] is False  # REMINDER_INTERVAL_SECONDS=0: no scheduler here
    assert body["outbox"]["pending"] == 0 and body["outbox"]["oldest_age_seconds"] == 0.0


async def test_healthz_is_503_when_the_database_is_unreachable(
    worker: WebhookWorker, clock: Clock
) -> None:
    runtime = worker.runtime
    sender = get_sender(worker.application)
    assert sender is not None
    await sender.stop()  # only /healthz meets the unreachable database below
    reachable = runtime.database
    runtime.database = Database("postgresql+asyncpg://nobody:nothing@127.0.0.1:1/nothing")
    try:
        response = await get(worker, "/healthz")
    finally:
        await runtime.database.dispose()
        runtime.database = reachable
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy" and body["database"]["ok"] is False
    assert body["database"]["error"]  # a type name, never the URL
    assert "nobody" not in response.text and "nothing" not in response.text
    assert (await get(worker, "/healthz")).status_code == 200


async def test_healthz_is_503_when_this_process_holds_the_scheduler_and_it_stopped_ticking(
    worker: WebhookWorker, clock: Clock
) -> None:
    set_scheduler_held(worker.runtime, True)
    clock.now += dt.timedelta(minutes=4)
    fresh = await get(worker, "/healthz")
    assert fresh.status_code == 200 and fresh.json()["scheduler"]["held"] is True
    clock.now += dt.timedelta(minutes=2)  # six minutes without a tick
    stale = await get(worker, "/healthz")
    assert stale.status_code == 503 and stale.json()["scheduler"]["stale"] is True
    set_scheduler_held(worker.runtime, False)  # another process took the scheduler
    assert (await get(worker, "/healthz")).status_code == 200
    set_scheduler_held(worker.runtime, True)  # and this one took it back: it counts from now
    assert (await get(worker, "/healthz")).status_code == 200


async def test_metrics_count_the_updates_and_the_messages_sent(
    botapi: BotApiStub, worker: WebhookWorker
) -> None:
    before = samples((await get(worker, "/metrics")).text)
    jean = botapi.user(101, "Jean")
    for _ in range(3):
        await jean.send_command("/start")
        await jean.next_message(timeout=10)
    response = await get(worker, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("portail_famille_updates_total", kind="message") == 3
    assert grew("portail_famille_update_seconds_count", kind="message") == 3
    assert grew("portail_famille_messages_sent_total", source="answer") >= 3
    assert value(after, "portail_famille_updates_in_flight") == 0
    assert ("portail_famille_outbox_backlog", ()) in after
    assert ("portail_famille_outbox_oldest_age_seconds", ()) in after
    for name in (
        "portail_famille_telegram_429_total",
        "portail_famille_reminders_due_total",
        "portail_famille_reminders_queued_total",
        "portail_famille_reminders_sent_total",
    ):
        assert (name, ()) in after, name


async def test_healthz_and_metrics_report_the_outbox_backlog_and_the_oldest_ones_age(
    runtime: Runtime, clock: Clock
) -> None:
    other_sender = AdvisoryLock(runtime.database, SENDER_LOCK_KEY)
    assert await other_sender.try_acquire()  # another process sends: the rows stay here
    async with runtime.database.transaction() as uow:
        for _ in range(2):
            await tell_account(uow, 101, "test.waiting", now=clock.now - dt.timedelta(seconds=90))
    worker = WebhookWorker(
        build_application(runtime, persistence_interval=0.1),
        runtime,
        allowed_updates=HANDLED_UPDATES,
    )
    await worker.start()
    try:
        health = (await get(worker, "/healthz")).json()
        page = samples((await get(worker, "/metrics")).text)
    finally:
        await worker.stop()
        await other_sender.release()
    assert health["outbox"] == {"pending": 2, "oldest_age_seconds": 90.0}
    assert value(page, "portail_famille_outbox_backlog") == 2
    assert value(page, "portail_famille_outbox_oldest_age_seconds") == 90.0


PERSONAL = ("DUPONT", "Anatole", "Zébulon", "06 12", "FR76")


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_logs_carry_no_personal_data_and_json_lines_parse(
    botapi: BotApiStub,
    worker: WebhookWorker,
    monkeypatch: pytest.MonkeyPatch,
    log_format: str,
) -> None:
    async def broken(db: Database, user_id: int) -> None:
        raise ValueError("DUPONT Anatole Zébulon 06 12 34 56 78 FR7630006000011234567890189")

    monkeypatch.setattr("conversations.linking.home_summary", broken)
    before = samples((await get(worker, "/metrics")).text)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(log_format))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        user = botapi.user(101, "Anatole", last_name="Zébulon", phone_number="+33612345678")
        await user.send_command("/start")
        assert "erreur" in (await user.next_message(timeout=10)).text
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    after = samples((await get(worker, "/metrics")).text)
    lines = stream.getvalue().splitlines()
    assert any("ValueError" in line for line in lines), lines
    for word in PERSONAL:
        assert word not in stream.getvalue(), word
    if log_format == "json":
        entries = [json.loads(line) for line in lines]
        assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
        errors = [entry for entry in entries if entry["logger"] == "portail_famille.errors"]
        assert errors and errors[0]["level"] == "ERROR" and "ValueError" in errors[0]["message"]
    assert (
        value(after, "portail_famille_errors_total", source="update", type="ValueError")
        - value(before, "portail_famille_errors_total", source="update", type="ValueError")
        == 1
    )


async def test_a_stopped_application_answers_503_so_that_telegram_sends_again_later(
    runtime: Runtime,
) -> None:
    application = build_application(runtime)  # built, never started
    app = build_webhook_app(application, runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        response = await client.post(
            "/telegram", json={"update_id": 7}, headers={SECRET_HEADER: SECRET}
        )
    assert response.status_code == 503
    assert application.update_queue.empty()


async def test_getupdates_is_refused_while_a_webhook_is_set(
    botapi: BotApiStub, worker: WebhookWorker
) -> None:
    with pytest.raises(Conflict):
        await worker.application.bot.get_updates(timeout=0)
    assert botapi.rejections[-1].error_code == 409


async def test_a_port_already_taken_is_said_plainly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = WebhookServer(Starlette(), "127.0.0.1", taken.getsockname()[1])
        with pytest.raises(ListenError, match=r"cannot listen on 127\.0\.0\.1:"):
            await server.start()
