"""Three structures served by one process, each its own bot, admin group and data.

The three communes run the same demo configuration (so the same N° famille, children's names
and services exist in each): whatever one structure's parent or staff does must stay in that
structure. One Bot API stand-in serves the three tokens, as api.telegram.org does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot import callbacks, reminder_job
from bot.app import ALLOWED_UPDATES, HANDLED_UPDATES, build_application
from bot.deployment import Bot, start_bot, stop_bot
from bot.domain.model import DayStatus
from bot.logging_setup import acting_for, build_formatter
from bot.runtime import Runtime
from bot.services import linking
from bot.services.children import ACTION_OWNERSHIP_REFUSED
from bot.services.reminders import ReminderSettings
from bot.settings import DEMO_STRUCTURE_FILE, load_settings
from bot.structure import Structure
from bot.tenancy import (
    claim_env_structure,
    new_webhook_secret,
    parse_configuration,
    served_structures,
)
from bot.webhook import WebhookWorker
from storage.db import Database
from storage.models import StructureRecord
from storage.outbox_repository import SENT
from tests.conftest import seed_demo
from tests.conversations.conftest import DUPONT, Clock
from tests.support.botapi import DEFAULT_TOKEN, BotApiStub, FakeGroup, FakeUser
from tests.support.outbox import wait_until_final
from tests.wiring.test_webhook import free_port

PARIS = ZoneInfo("Europe/Paris")
MONDAY_9 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
FRIDAY_11 = dt.datetime(2026, 11, 27, 11, 0, tzinfo=PARIS)  # 1 h before next week's cutoff
COMMUNES = (
    # slug, token, admin group, name
    ("default", DEFAULT_TOKEN, -1001000000001, None),
    (
        "riaille",
        "222222222:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        -1001000000002,
        "Mairie de Riaillé",
    ),
    (
        "peaugres",
        "333333333:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
        -1001000000003,
        "Mairie de Peaugres",
    ),
)


@dataclass
class Commune:
    """One structure as a test sees it: its stand-in bot, admin group and runtime."""

    slug: str
    stub: BotApiStub
    group: FakeGroup
    runtime: Runtime

    @property
    def database(self) -> Database:
        return self.runtime.database


@pytest.fixture
async def server() -> AsyncIterator[BotApiStub]:
    """One Bot API stand-in for the three tokens."""
    async with BotApiStub(token=DEFAULT_TOKEN) as stub:
        yield stub


@pytest.fixture
async def prepared(
    any_database: Database, structure: Structure, server: BotApiStub
) -> list[Commune]:
    """The three structures in the registry, seeded with the demo, not started yet."""
    stubs = [server] + [
        server.add_bot(token, username=f"{slug.capitalize()}Bot")
        for slug, token, _, _ in COMMUNES[1:]
    ]
    port = free_port()
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=DEFAULT_TOKEN,
        telegram_api_base_url=server.base_url,
        telegram_api_base_file_url=server.base_file_url,
        database_url=any_database.url,
        admin_chat_id=COMMUNES[0][2],
        reminder_interval_seconds=0,  # the tests run the reminder job themselves
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret=ENV_SECRET,
        listen_address="127.0.0.1",
        port=port,
    )
    await seed_demo(any_database, structure)
    for slug, token, admin, name in COMMUNES[1:]:
        configuration = _renamed(name or "")
        async with any_database.registry().transaction() as uow:
            record = await uow.repos.registry.add(
                StructureRecord(
                    slug=slug,
                    name=name,
                    bot_token=token,
                    admin_chat_id=admin,
                    staff_user_ids="",
                    timezone="Europe/Paris",
                    webhook_secret=new_webhook_secret(),
                    configuration=configuration,
                    enabled=True,
                )
            )
        await seed_demo(any_database.for_structure(record.id), _parsed(configuration))
    await claim_env_structure(settings, structure, any_database)
    served = await served_structures(settings, any_database, structure)
    assert [item.slug for item in served] == [slug for slug, *_ in COMMUNES]
    clock = Clock(MONDAY_9)
    result: list[Commune] = []
    for item, stub, (slug, _, admin, _) in zip(served, stubs, COMMUNES, strict=True):
        runtime = dataclasses.replace(item.runtime(), clock=clock)
        group = stub.group(admin, f"Staff — {slug}", members=[])
        result.append(Commune(slug, stub, group, runtime))
    return result


@pytest.fixture
async def communes(prepared: list[Commune]) -> AsyncIterator[list[Commune]]:
    """The three bots polling, in this one process, as `portail-famille run` starts them."""
    bots: list[Bot] = []
    try:
        for commune in prepared:
            bot = Bot(build_application(commune.runtime, persistence_interval=0.1), commune.runtime)
            await start_bot(bot)
            bots.append(bot)
            assert bot.application.updater is not None
            with acting_for(commune.slug):
                await bot.application.updater.start_polling(
                    poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
                )
        yield prepared
    finally:
        for bot in bots:
            assert bot.application.updater is not None
            await bot.application.updater.stop()
        for bot in bots:
            await stop_bot(bot)


def _renamed(name: str) -> str:
    raw = yaml.safe_load(DEMO_STRUCTURE_FILE.read_text(encoding="utf-8"))
    raw["structure"]["name"] = name
    return yaml.safe_dump(raw, allow_unicode=True)


def _parsed(configuration: str) -> Structure:
    return parse_configuration(configuration, "test")


async def link(commune: Commune, user: FakeUser, number: str = DUPONT) -> None:
    """The family's invitation letter, then /start with its code: the home screen."""
    async with commune.database.unit_of_work() as uow:
        invite = await linking.create_invite(uow, number, commune.runtime.now(), 30)
        await uow.commit()
    await user.send_command("/start", invite.code)
    await user.next_message()


async def child_and_service(commune: Commune, first_name: str, code: str) -> tuple[int, int]:
    async with commune.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        assert family is not None
        child = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == first_name
        )
        service = await uow.repos.structure.service_by_code(code)
        assert service is not None
        return child.id, service.id


async def status_of(commune: Commune, first_name: str, code: str, day: dt.date) -> DayStatus | None:
    child_id, service_id = await child_and_service(commune, first_name, code)
    async with commune.database.unit_of_work() as uow:
        entry = await uow.repos.planning.entry(child_id, service_id, day)
        return entry.status if entry else None


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Until `condition()` holds; fails after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


def book(child_id: int, service_id: int, day: dt.date) -> str:
    return callbacks.build(
        callbacks.PLANNING_ACTION, "b", child_id, service_id, day.strftime("%Y%m%d")
    )


DECEMBER_3 = dt.date(2026, 12, 3)
FLOOD_SECONDS = 6
ENV_SECRET = "env-structure-Secret_0123456789"
WEDNESDAY_25 = dt.date(2026, 11, 25)


async def test_a_parent_of_each_structure_links_and_books_in_their_structure_only(
    communes: list[Commune],
) -> None:
    parents = [c.stub.user(100 + i, f"Parent{i}") for i, c in enumerate(communes)]
    for commune, parent in zip(communes, parents, strict=True):
        await link(commune, parent)
    riaille = communes[1]
    lucas, cantine = await child_and_service(riaille, "LUCAS", "cantine")
    await parents[1].tap_data(parents[1].last_message(), book(lucas, cantine, DECEMBER_3))
    booked = await parents[1].next_message()
    assert booked.chat_id == parents[1].id
    assert await status_of(riaille, "LUCAS", "cantine", DECEMBER_3) == DayStatus.RESERVED
    for other in (communes[0], communes[2]):
        assert await status_of(other, "LUCAS", "cantine", DECEMBER_3) is None
    for commune, parent in zip(communes, parents, strict=True):  # each talked to its own bot only
        assert {call.chat_id for call in commune.stub.calls("sendMessage")} >= {parent.id}
        assert all(
            call.chat_id != other.id
            for call in commune.stub.calls("sendMessage")
            for other in parents
            if other is not parent
        )


async def test_one_person_parent_in_two_structures_keeps_two_separate_families(
    communes: list[Commune],
) -> None:
    default, riaille = communes[0], communes[1]
    jean = default.stub.user(101, "Jean")
    jean_in_riaille = riaille.stub.same_user(jean)
    await link(default, jean)
    await link(riaille, jean_in_riaille)
    lucas, cantine = await child_and_service(riaille, "LUCAS", "cantine")
    await jean_in_riaille.tap_data(jean_in_riaille.last_message(), book(lucas, cantine, DECEMBER_3))
    await jean_in_riaille.next_message()
    assert await status_of(riaille, "LUCAS", "cantine", DECEMBER_3) == DayStatus.RESERVED
    assert await status_of(default, "LUCAS", "cantine", DECEMBER_3) is None
    for commune in (default, riaille):
        async with commune.database.unit_of_work() as uow:
            link_row = await uow.repos.telegram.active_link(101)
            expected = await uow.repos.families.get_by_number(DUPONT)
        assert link_row is not None and expected is not None
        assert link_row.family_id == expected.id


async def test_each_staff_group_sees_only_its_own_requests(communes: list[Commune]) -> None:
    parents = [c.stub.user(100 + i, f"Parent{i}") for i, c in enumerate(communes)]
    for commune, parent in zip(communes[:2], parents[:2], strict=True):
        await link(commune, parent)
    for commune, parent in zip(communes[:2], parents[:2], strict=True):
        lucas, alsh = await child_and_service(commune, "LUCAS", "alsh_mercredi")
        await parent.tap_data(parent.last_message(), book(lucas, alsh, WEDNESDAY_25))
        await parent.next_message()
        assert await status_of(commune, "LUCAS", "alsh_mercredi", WEDNESDAY_25) == (
            DayStatus.BOOKING_PROCESSING
        )
    for commune in communes[:2]:
        card = await commune.group.next_message()
        assert any(
            button.get("callback_data", "").startswith(callbacks.STAFF_ACCEPT + ":")
            for row in card.buttons
            for button in row
        )
        async with commune.database.unit_of_work() as uow:
            pending = await uow.repos.requests.pending()
        assert len(pending) == 1
    assert communes[2].stub.calls("sendMessage") == [] or all(
        call.chat_id != communes[2].group.id for call in communes[2].stub.calls("sendMessage")
    )


async def test_a_forged_button_naming_another_structures_child_is_refused(
    communes: list[Commune],
) -> None:
    default, riaille = communes[0], communes[1]
    sophie = riaille.stub.user(202, "Sophie")
    await link(riaille, sophie)
    lucas_of_default, cantine_of_default = await child_and_service(default, "LUCAS", "cantine")
    await sophie.tap_data(
        sophie.last_message(), book(lucas_of_default, cantine_of_default, DECEMBER_3)
    )
    answer = await sophie.next_message()
    assert "LUCAS" not in answer.text
    assert await status_of(default, "LUCAS", "cantine", DECEMBER_3) is None
    async with riaille.database.unit_of_work() as uow:
        refused = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
    async with default.database.unit_of_work() as uow:
        nothing = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
    assert [entry.actor_telegram_id for entry in refused] == [202] and nothing == []


async def test_reminders_of_one_structure_are_not_delayed_by_a_429_of_another(
    communes: list[Commune],
) -> None:
    _, riaille, peaugres = communes
    for commune in (riaille, peaugres):
        await link(commune, commune.stub.user(301, "Parent"))
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    handler.setFormatter(build_formatter("json"))
    logging.getLogger().addHandler(handler)
    riaille.stub.flood_wait(FLOOD_SECONDS)  # Telegram holds Riaillé's bot back a moment
    for commune in (riaille, peaugres):
        commune.runtime.clock = Clock(FRIDAY_11.astimezone(dt.UTC))
    held = await reminder_job.queue_reminders(riaille.runtime, ReminderSettings())
    assert held.keys
    await wait_for(lambda: riaille.stub.flood_rejections > 0)  # Riaillé's sender was told 429
    sent = await reminder_job.queue_reminders(peaugres.runtime, ReminderSettings())
    rows = await wait_until_final(peaugres.runtime, sent.keys)
    assert rows and all(row.status == SENT for row in rows)
    async with riaille.database.unit_of_work() as uow:
        waiting = await uow.repos.outbox.with_keys(held.keys)
    assert waiting and all(row.status != SENT for row in waiting)  # still held by the 429
    assert peaugres.stub.flood_rejections == 0
    later = await wait_until_final(riaille.runtime, held.keys, timeout=FLOOD_SECONDS + 10)
    assert all(row.status == SENT for row in later)  # and nothing of Riaillé's was lost
    logging.getLogger().removeHandler(handler)
    waits = [
        json.loads(line)
        for line in logged.getvalue().splitlines()
        if "429" in json.loads(line)["message"]
    ]
    assert waits and {entry.get("structure") for entry in waits} == {"riaille"}


async def test_in_webhook_mode_each_bot_has_its_path_and_its_secret(
    prepared: list[Commune],
) -> None:
    default, riaille, peaugres = prepared
    bots = [(build_application(c.runtime, persistence_interval=0.1), c.runtime) for c in prepared]
    worker = WebhookWorker(*bots[0], allowed_updates=HANDLED_UPDATES, others=bots[1:])
    await worker.start()
    try:
        for commune in prepared:
            assert commune.stub.webhook is not None
            assert commune.stub.webhook["url"] == commune.runtime.settings.webhook_address
        assert default.stub.webhook is not None and riaille.stub.webhook is not None
        assert default.stub.webhook["url"].endswith("/telegram")
        assert riaille.stub.webhook["url"].endswith("/tg/riaille")
        secrets = {c.stub.webhook["secret_token"] for c in prepared if c.stub.webhook}
        assert len(secrets) == 3  # each bot its own
        jean = riaille.stub.user(101, "Jean")
        riaille.stub.webhook["secret_token"] = default.stub.webhook["secret_token"]
        await jean.send_command("/start")
        await riaille.stub.expect_silence(101, window=0.5)
        assert {d.status for d in riaille.stub.webhook_deliveries} == {403}
        riaille.stub.webhook["secret_token"] = riaille.runtime.settings.webhook_secret
        await link(riaille, jean)
        sophie = peaugres.stub.user(102, "Sophie")
        await link(peaugres, sophie)
        assert riaille.stub.webhook_deliveries[-1].status == 200
        assert all(d.url.endswith("/tg/peaugres") for d in peaugres.stub.webhook_deliveries)
    finally:
        await worker.stop()
