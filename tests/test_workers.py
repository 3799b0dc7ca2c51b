"""Several workers on one PostgreSQL database serve the same bot; any update may reach any.

Each worker here is a whole bot: its own Application, engine and caches, behind its own
webhook endpoint (bot/webhook.py, real HTTP on 127.0.0.1). The Bot API stand-in posts the
updates to the endpoints in turn, as a load balancer would, answering nothing until a worker
took each one. The scheduler story kills a real `portail-famille run --webhook` process.

PostgreSQL only: skipped without TEST_POSTGRES_URL (`source /work/brief/pg.env`).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import datetime as dt
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import text
from telegram import ChatMember, User
from telegram.ext import Application

from bot import callbacks, i18n
from bot.app import build_application
from bot.domain import forms
from bot.domain.model import DayStatus
from bot.health import HELD_KEY
from bot.runtime import Runtime
from bot.scheduling import get_lease
from bot.settings import load_settings
from bot.staff import StaffDirectory
from bot.structure import Structure
from bot.webhook import SECRET_HEADER, WebhookServer, build_webhook_app
from conversations import language
from storage.db import Database
from storage.models import TelegramLink
from tests.conftest import POSTGRES_URL, _drop_postgres, _postgres_database, seed_demo
from tests.conversations.conftest import Clock
from tests.storage.test_persistence import bare_application, private_update, scope
from tests.support.botapi import DEFAULT_TOKEN, BotApiStub, ChatMessage, FakeUser

pytestmark = pytest.mark.postgres

CLI = Path(sys.executable).parent / "portail-famille"
SECRET = "workers-secret_0123"
ROUTE = "/telegram"
DUPONT = "1001001818331"
JEAN = 101
PARIS = ZoneInfo("Europe/Paris")
MONDAY_9 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
FRIDAY_11 = dt.datetime(2026, 11, 27, 11, 0, tzinfo=PARIS)  # 1 h before the cantine cutoff


@dataclass
class Worker:
    """One bot process's worth: runtime, application, webhook server."""

    runtime: Runtime
    application: Application  # type: ignore[type-arg]
    server: WebhookServer | None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + ROUTE


async def start_worker(
    url: str,
    stub: BotApiStub,
    structure: Structure,
    clock: Callable[[], dt.datetime],
    *,
    reminder_interval: int = 0,
    serve: bool = True,
) -> Worker:
    """Start a worker as `run --webhook` does (without setWebhook: the test sets it once)."""
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=DEFAULT_TOKEN,
        telegram_api_base_url=stub.base_url,
        telegram_api_base_file_url=stub.base_file_url,
        database_url=url,
        reminder_interval_seconds=reminder_interval,
        webhook_url=f"http://127.0.0.1{ROUTE}",
        webhook_secret=SECRET,
    )
    runtime = Runtime(settings=settings, database=Database(url), structure=structure, clock=clock)
    application = build_application(runtime)
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    await application.start()
    server = None
    if serve:
        server = WebhookServer(build_webhook_app(application, runtime))
        await server.start()
    return Worker(runtime, application, server)


async def stop_worker(worker: Worker) -> None:
    """Stop as on SIGTERM."""
    if worker.server is not None:
        await worker.server.stop()
    application = worker.application
    if application.running:
        await application.stop()
    assert application.post_stop is not None and application.post_shutdown is not None
    await application.post_stop(application)
    await application.shutdown()
    await application.post_shutdown(application)


@pytest.fixture
async def pg_url(structure: Structure) -> AsyncIterator[str]:
    """A fresh PostgreSQL database holding the demo structure and families."""
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL not set: PostgreSQL tests skipped")
    database, name = await _postgres_database()
    try:
        await seed_demo(database, structure)
        await link_directly(database, JEAN, DUPONT)
        await database.dispose()
        yield database.url
    finally:
        await database.dispose()
        await _drop_postgres(name)


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    async with BotApiStub(token=DEFAULT_TOKEN) as botapi:
        yield botapi


@pytest.fixture
async def workers(
    pg_url: str, stub: BotApiStub, structure: Structure
) -> AsyncIterator[tuple[Worker, Worker]]:
    """Two workers behind the stand-in's webhook, which posts to each in turn."""
    clock = Clock(MONDAY_9)
    first = await start_worker(pg_url, stub, structure, clock)
    second = await start_worker(pg_url, stub, structure, clock)
    try:
        stub.webhook_endpoints = [first.url, second.url]
        await first.application.bot.set_webhook(url=first.url, secret_token=SECRET)
        yield first, second
    finally:
        await stop_worker(first)
        await stop_worker(second)


async def link_directly(database: Database, user_id: int, number: str) -> None:
    async with database.transaction() as uow:
        family = await uow.repos.families.get_by_number(number)
        assert family is not None
        await uow.repos.telegram.get_or_create_user(user_id)
        uow.repos.telegram.add_link(
            TelegramLink(family_id=family.id, telegram_user_id=user_id, linked_by="invite")
        )


def data_of(message: ChatMessage, prefix: str, *, containing: str = "") -> str:
    """The callback data of the first button of `message` starting with `prefix`."""
    for row in message.buttons:
        for button in row:
            data = str(button.get("callback_data", ""))
            if data.startswith(prefix) and containing in data:
                return data
    raise AssertionError(f"no button {prefix!r}…{containing!r} on {message.describe()}")


async def tap(user: FakeUser, message: ChatMessage, prefix: str, containing: str = "") -> None:
    await user.tap_data(message, data_of(message, prefix, containing=containing))


def recorded_updates(stub: BotApiStub) -> dict[int, dict[str, Any]]:
    """Every update the stand-in queues from now on, by update_id, as Telegram would re-send it."""
    updates: dict[int, dict[str, Any]] = {}
    enqueue = stub.enqueue_update

    def recording(payload: dict[str, Any]) -> int:
        update_id = enqueue(payload)
        updates[update_id] = {"update_id": update_id, **copy.deepcopy(payload)}
        return update_id

    stub.enqueue_update = recording  # type: ignore[method-assign]  # a spy on the stand-in
    return updates


async def entry_status(database_url: str, child: str, code: str, day: dt.date) -> DayStatus | None:
    database = Database(database_url)
    try:
        async with database.unit_of_work(read_only=True) as uow:
            family = await uow.repos.families.get_by_number(DUPONT)
            assert family is not None
            kid = next(
                c for c in await uow.repos.families.children(family.id) if c.first_name == child
            )
            service = await uow.repos.structure.service_by_code(code)
            assert service is not None
            entry = await uow.repos.planning.entry(kid.id, service.id, day)
            return entry.status if entry else None
    finally:
        await database.dispose()


def day_data(month: ChatMessage, day: dt.date) -> str:
    return data_of(month, callbacks.PLANNING_DAY + ":", containing=day.strftime("%Y%m%d"))


async def cantine_action(database_url: str, action: str, day: dt.date) -> tuple[str, str]:
    """The prefix and the end of the data of a day's button acting on the cantine."""
    database = Database(database_url)
    try:
        async with database.unit_of_work(read_only=True) as uow:
            cantine = await uow.repos.structure.service_by_code("cantine")
            assert cantine is not None
    finally:
        await database.dispose()
    return f"{callbacks.PLANNING_ACTION}:{action}:", f":{cantine.id}:{day:%Y%m%d}"


async def test_a_booking_walked_on_two_workers_in_turn_books_the_right_days(
    workers: tuple[Worker, Worker], stub: BotApiStub, pg_url: str
) -> None:
    first, second = workers
    jean = stub.user(JEAN, "Jean")
    await jean.send_command("/accueil")  # 1
    home = await jean.next_message()
    await tap(jean, home, "menu:planning")  # 2
    picker = await jean.next_message()
    await tap(jean, picker, callbacks.PLANNING_MONTH + ":")  # 3: the first child
    month = await jean.next_message()
    await jean.tap_data(month, data_of(month, callbacks.PLANNING_MONTH + ":", containing="202612"))
    december = await jean.next_message()  # 4
    await jean.tap_data(december, day_data(december, dt.date(2026, 12, 3)))  # 5
    day = await jean.next_message()
    await tap(jean, day, *await cantine_action(pg_url, "b", dt.date(2026, 12, 3)))  # 6: book
    booked = await jean.next_message()
    await tap(jean, booked, callbacks.PLANNING_MONTH + ":")  # 7: back to the month
    december = await jean.next_message()
    await jean.tap_data(december, day_data(december, dt.date(2026, 12, 4)))  # 8
    day = await jean.next_message()
    await tap(jean, day, *await cantine_action(pg_url, "b", dt.date(2026, 12, 4)))  # 9
    booked = await jean.next_message()
    await tap(jean, booked, callbacks.PLANNING_MONTH + ":")  # 10: back to the month
    assert "✅" in str((await jean.next_message()).buttons)  # the booked days are marked

    served = [d.url for d in stub.webhook_deliveries if d.accepted]
    assert len(served) == 10 and served.count(first.url) == served.count(second.url) == 5
    child = picker_child(picker)
    for booked_day in (dt.date(2026, 12, 3), dt.date(2026, 12, 4)):
        assert await entry_status(pg_url, child, "cantine", booked_day) == DayStatus.RESERVED
    assert await entry_status(pg_url, child, "cantine", dt.date(2026, 12, 2)) is None


def picker_child(picker: ChatMessage) -> str:
    """The first name on the child picker's first button (the child the booking was for)."""
    return str(picker.buttons[0][0]["text"]).split()[-1]


async def test_a_change_request_half_typed_on_one_worker_is_finished_on_the_other(
    workers: tuple[Worker, Worker], stub: BotApiStub, pg_url: str
) -> None:
    first, second = workers
    keys = [field.key for field in forms.RESPONSABLE.fields]
    stub.webhook_endpoints = [first.url]
    jean = stub.user(JEAN, "Jean")
    await jean.send_command("/accueil")
    await jean.next_message()
    form_start = callbacks.build(callbacks.FORM_START, forms.RESPONSABLE.code, 0)
    home = jean.last_message()
    assert home is not None
    await tap(jean, home, "menu:account")
    account = await jean.next_message()
    await tap(jean, account, callbacks.build(callbacks.ACCOUNT, "r"))
    block = await jean.next_message()
    await tap(jean, block, form_start)
    form = await jean.next_message()
    token = data_of(form, callbacks.FORM_FIELD + ":").split(":")[1]
    await jean.tap_data(form, callbacks.build(callbacks.FORM_FIELD, token, keys.index("city")))
    await jean.next_message()
    await jean.send("SAINT-PAUL")
    form = await jean.next_message()
    await jean.tap_data(
        form, callbacks.build(callbacks.FORM_FIELD, token, keys.index("postal_code"))
    )
    await jean.next_message()  # the question; the answer goes to the other worker
    stub.webhook_endpoints = [second.url]
    await jean.send("73730")
    form = await jean.next_message()
    assert "SAINT-PAUL" in form.text and "73730" in form.text
    await jean.tap_data(form, callbacks.build(callbacks.FORM_SEND, token))
    check = await jean.next_message()
    await jean.tap_data(check, callbacks.build(callbacks.FORM_CONFIRM, token))
    await jean.next_message()

    assert {d.url for d in stub.webhook_deliveries if d.accepted} == {first.url, second.url}
    async with second.runtime.database.unit_of_work(read_only=True) as uow:
        [request] = await uow.repos.requests.pending()
    assert request.created_by == JEAN
    assert request.payload["values"] == {"city": "SAINT-PAUL", "postal_code": "73730"}


async def test_an_update_handled_by_one_worker_and_delivered_again_to_the_other_changes_nothing(
    workers: tuple[Worker, Worker], stub: BotApiStub, pg_url: str
) -> None:
    first, second = workers
    updates = recorded_updates(stub)
    stub.webhook_endpoints = [first.url]
    jean = stub.user(JEAN, "Jean")
    await jean.send_command("/accueil")
    await tap(jean, await jean.next_message(), "menu:planning")
    picker = await jean.next_message()
    child = picker_child(picker)
    await tap(jean, picker, callbacks.PLANNING_MONTH + ":")
    month = await jean.next_message()
    await jean.tap_data(month, data_of(month, callbacks.PLANNING_MONTH + ":", containing="202612"))
    december = await jean.next_message()
    await jean.tap_data(december, day_data(december, dt.date(2026, 12, 3)))
    day = await jean.next_message()
    day_3 = dt.date(2026, 12, 3)
    await tap(jean, day, *await cantine_action(pg_url, "b", day_3))  # book, on the first worker
    booked = await jean.next_message()
    booking = max(updates)
    stub.webhook_endpoints = [second.url]
    await tap(jean, booked, *await cantine_action(pg_url, "c", day_3))  # cancel, on the second
    await jean.next_message()
    assert await entry_status(pg_url, child, "cantine", day_3) == DayStatus.CANCELLED
    answered = len(stub.calls("answerCallbackQuery")) + len(stub.rejections)

    # Telegram delivers the booking tap again (the first worker died before answering it):
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            second.url, json=updates[booking], headers={SECRET_HEADER: SECRET}
        ) as response,
    ):
        assert response.status == 200
    for _ in range(200):  # the second worker handled it: it answered the query again
        if len(stub.calls("answerCallbackQuery")) + len(stub.rejections) > answered:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the re-delivered update was not handled")
    await jean.expect_silence(0.5)
    assert await entry_status(pg_url, child, "cantine", day_3) == DayStatus.CANCELLED


async def test_a_language_chosen_on_one_worker_is_spoken_by_the_other(
    workers: tuple[Worker, Worker], stub: BotApiStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = workers
    monkeypatch.setattr(language, "SHARED_CACHE_SECONDS", 0.0)  # not a few seconds: no waiting
    jean = stub.user(JEAN, "Jean", language_code="fr")
    stub.webhook_endpoints = [second.url]
    await jean.send_command("/langue")
    choice = await jean.next_message()
    assert choice.text == in_language("fr", "Choose your language:")  # now known to the second
    stub.webhook_endpoints = [first.url]
    await jean.tap_data(choice, callbacks.build(callbacks.LANGUAGE, "en"))
    await jean.next_message()
    stub.webhook_endpoints = [second.url]
    await jean.send_command("/langue")
    assert (await jean.next_message()).text == in_language("en", "Choose your language:")


def in_language(code: str, message: str) -> str:
    with i18n.use_language(code):
        return i18n._(message)


async def test_two_workers_never_handle_updates_of_one_chat_at_once(
    pg_url: str, stub: BotApiStub
) -> None:
    here_db, there_db = Database(pg_url), Database(pg_url)
    here = await bare_application(here_db, stub)
    there = await bare_application(there_db, stub)
    try:
        second_read: dict[str, Any] = {}

        async def second_update() -> None:  # reaches the other worker while the first runs
            async with scope(there, private_update(2, JEAN)):
                second_read.update(there.user_data[JEAN])
                there.user_data[JEAN]["taps"] += 1

        async with scope(here, private_update(1, JEAN)):
            here.user_data[JEAN]["taps"] = 1
            waiting = asyncio.create_task(second_update())
            await wait_for_lock_waiter(here_db)
            assert not waiting.done()
        await waiting
        assert second_read == {"taps": 1}  # read after the first update's write, not before
        async with here_db.unit_of_work(read_only=True) as uow:
            assert (await uow.repos.bot_state.load("user_data"))[str(JEAN)] == {"taps": 2}
    finally:
        await here.shutdown()
        await there.shutdown()
        await here_db.dispose()
        await there_db.dispose()


async def wait_for_lock_waiter(database: Database) -> None:
    """Until a connection waits for an advisory lock."""
    for _ in range(600):
        async with database.engine.connect() as connection:
            waiting = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                )
            ).scalar()
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("nobody waits for the chat's lock")


class WorkerProcess:
    """`portail-famille run --webhook` on the test's database, behind the stand-in."""

    def __init__(self, stub: BotApiStub, database_url: str, cwd: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{ROUTE}"
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": stub.base_url,
            "TELEGRAM_API_BASE_FILE_URL": stub.base_file_url,
            "DATABASE_URL": database_url,
            "REMINDER_INTERVAL_SECONDS": "0",
            "WEBHOOK_URL": self.url,
            "WEBHOOK_SECRET": SECRET,
            "LISTEN_ADDRESS": "127.0.0.1",
            "PORT": str(self.port),
            **env,
        }
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start it and wait until `/healthz` answers."""
        with (self.cwd / f"worker-{self.port}.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(CLI), "run", "--webhook", env=self.env, cwd=self.cwd, stdout=log, stderr=log
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        async with aiohttp.ClientSession() as session:
            while loop.time() < deadline:
                assert self.process.returncode is None, "the worker stopped"
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status in (200, 503):
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("the worker never answered /healthz")

    async def wait_idle(self, stub: BotApiStub) -> None:
        """Until it handled every update it took (its `/metrics` say so)."""
        taken = len([d for d in stub.webhook_deliveries if d.accepted and d.url == self.url])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        async with aiohttp.ClientSession() as session:
            while loop.time() < deadline:
                async with session.get(f"http://127.0.0.1:{self.port}/metrics") as response:
                    page = await response.text()
                handled = sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in page.splitlines()
                    if line.startswith("portail_famille_updates_total{")
                )
                if handled >= taken and "portail_famille_updates_in_flight 0.0" in page:
                    return
                await asyncio.sleep(0.05)
        raise AssertionError("the worker did not finish its updates")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                await self.kill()


async def test_a_change_request_half_typed_on_a_process_killed_since_is_finished_on_another(
    pg_url: str, stub: BotApiStub, tmp_path: Path
) -> None:
    first = WorkerProcess(stub, pg_url, tmp_path)
    second = WorkerProcess(stub, pg_url, tmp_path)
    stub.webhook_endpoints = [first.url]
    try:
        await first.start()
        await second.start()
        jean = stub.user(JEAN, "Jean")
        token = await half_type_a_change_of_address(jean)
        await first.wait_idle(stub)  # its last update's state is written: killing loses nothing
        await first.kill()
        stub.webhook_endpoints = [second.url]
        await jean.send("73730")
        form = await jean.next_message(timeout=30)
        assert "SAINT-PAUL" in form.text and "73730" in form.text
        await jean.tap_data(form, callbacks.build(callbacks.FORM_SEND, token))
        check = await jean.next_message(timeout=30)
        await jean.tap_data(check, callbacks.build(callbacks.FORM_CONFIRM, token))
        await jean.next_message(timeout=30)
    finally:
        await first.stop()
        await second.stop()
    database = Database(pg_url)
    try:
        async with database.unit_of_work(read_only=True) as uow:
            [request] = await uow.repos.requests.pending()
    finally:
        await database.dispose()
    assert request.payload["values"] == {"city": "SAINT-PAUL", "postal_code": "73730"}


async def half_type_a_change_of_address(jean: FakeUser) -> str:
    """Mon compte, Infos responsable, ask for a change, type the city, open the postal code:
    the draft's token."""
    keys = [field.key for field in forms.RESPONSABLE.fields]
    await jean.send_command("/accueil")
    await tap(jean, await jean.next_message(timeout=30), "menu:account")
    account = await jean.next_message(timeout=30)
    await tap(jean, account, callbacks.build(callbacks.ACCOUNT, "r"))
    block = await jean.next_message(timeout=30)
    await tap(jean, block, callbacks.build(callbacks.FORM_START, forms.RESPONSABLE.code, 0))
    form = await jean.next_message(timeout=30)
    token = data_of(form, callbacks.FORM_FIELD + ":").split(":")[1]
    await jean.tap_data(form, callbacks.build(callbacks.FORM_FIELD, token, keys.index("city")))
    await jean.next_message(timeout=30)
    await jean.send("SAINT-PAUL")
    form = await jean.next_message(timeout=30)
    await jean.tap_data(
        form, callbacks.build(callbacks.FORM_FIELD, token, keys.index("postal_code"))
    )
    await jean.next_message(timeout=30)  # the question: the answer goes to another worker
    return token


async def test_killing_the_worker_that_runs_the_scheduler_lets_the_other_send_the_next_reminder_once(
    pg_url: str, stub: BotApiStub, structure: Structure, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE_URL": stub.base_url,
        "TELEGRAM_API_BASE_FILE_URL": stub.base_file_url,
        "DATABASE_URL": pg_url,
        "REMINDER_INTERVAL_SECONDS": "1",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}{ROUTE}",
        "WEBHOOK_SECRET": SECRET,
        "LISTEN_ADDRESS": "127.0.0.1",
        "PORT": str(port),
    }
    log = (tmp_path / "worker.log").open("ab")
    holder = await asyncio.create_subprocess_exec(
        str(CLI), "run", "--webhook", env=env, cwd=tmp_path, stdout=log, stderr=log
    )
    standby: Worker | None = None
    try:
        await wait_until_scheduler_held(port)
        # The other worker's clock says a cantine reminder is due; it does not run the scheduler.
        cantine_only = dataclasses.replace(
            structure, services=tuple(s for s in structure.services if s.code == "cantine")
        )
        standby = await start_worker(
            pg_url, stub, cantine_only, Clock(FRIDAY_11), reminder_interval=1, serve=False
        )
        runtime = standby.runtime
        await wait_for(lambda: runtime.extensions.get(HELD_KEY) is False, "the lease asked")
        jean = stub.user(JEAN, "Jean")
        await no_message_about(jean, DUE, window=2.5)  # ticks of the standby did nothing

        holder.send_signal(signal.SIGKILL)
        await holder.wait()
        lease = get_lease(runtime)
        assert lease is not None
        await wait_for(lambda: lease.held, "the standby took the scheduler", timeout=60)
        await wait_for(lambda: about(jean, DUE) != [], "the reminder", timeout=60)
        await no_message_about(jean, DUE, window=2.5, already=1)  # later ticks: sent once
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        if standby is not None:
            await stop_worker(standby)
        log.close()


DUE = "ferment vendredi 27 novembre 2026 à 12:00"
"""The reminder due at the standby's clock (the killed process's clock is the real one: what
it sends meanwhile is about other days)."""


def about(user: FakeUser, text: str) -> list[ChatMessage]:
    return [m for m in user.messages() if text in m.text]


async def no_message_about(user: FakeUser, text: str, *, window: float, already: int = 0) -> None:
    """Fails as soon as a message containing `text` comes beyond the `already` ones."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + window
    while loop.time() < deadline:
        assert len(about(user, text)) <= already, [m.describe() for m in about(user, text)]
        await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting: {what}")
        await asyncio.sleep(0.05)


async def wait_until_scheduler_held(port: int) -> None:
    """Until the process's /healthz says it runs the scheduler."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    async with aiohttp.ClientSession() as session:
        while loop.time() < deadline:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if (await response.json()).get("scheduler", {}).get("held"):
                        return
            except (aiohttp.ClientError, ValueError):
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the first worker never ran the scheduler")


class _Membership:
    """getChatMember of a Bot API where the member left the admin group after the first ask."""

    def __init__(self) -> None:
        self.asked = 0

    async def get_chat_member(self, chat_id: int, user_id: int) -> Any:
        self.asked += 1
        return ChatMember(
            User(user_id, "Claire", is_bot=False), "member" if self.asked == 1 else "left"
        )


@pytest.mark.parametrize(
    ("url", "still_staff_after_20_s"),
    [("sqlite+aiosqlite:///unused.db", True), ("postgresql+asyncpg://u@127.0.0.1/unused", False)],
)
async def test_a_staff_member_who_left_the_group_is_refused_by_every_worker_within_seconds(
    structure: Structure, url: str, still_staff_after_20_s: bool
) -> None:
    # The chat_member update that forgets the answer reaches one worker; the others let their
    # cached answer expire: in ten seconds with several workers (PostgreSQL), two minutes alone.
    settings = load_settings(
        _env_file=None, telegram_bot_token=DEFAULT_TOKEN, admin_chat_id=-100, database_url=url
    )
    database = Database(url)  # never connected to: its backend is all that is read
    runtime = Runtime(settings=settings, database=database, structure=structure)
    now = [0.0]
    directory, bot = StaffDirectory(clock=lambda: now[0]), _Membership()
    try:
        assert await directory.is_staff(bot, runtime, 901)
        now[0] = 20.0
        assert await directory.is_staff(bot, runtime, 901) is still_staff_after_20_s
    finally:
        await database.dispose()
