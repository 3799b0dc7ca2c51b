"""Fixtures of the admin group's stories: the staff group, its members, a simple request type."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from telegram.ext import Application

from bot.domain.model import RequestKind
from bot.runtime import Runtime
from bot.services import requests as requests_service
from bot.services.requests import CARD_TEMPLATE, FieldChange, RequestDescription
from storage.models import Request
from tests.conversations.conftest import DUPONT, start_application, stop_application
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

ADMIN_CHAT = -1001234567890
CLAIRE, PAUL, EVE = 901, 902, 666


@pytest.fixture
def admin_group(botapi: BotApiStub, runtime: Runtime) -> FakeGroup:
    """The staff's private group: Claire administers it, Paul is a member."""
    group = botapi.group(ADMIN_CHAT, "Staff — Service Enfance", members=[PAUL])
    botapi.admins[ADMIN_CHAT] = [CLAIRE]
    runtime.settings.admin_chat_id = ADMIN_CHAT
    return group


@pytest.fixture
async def bot(runtime: Runtime, admin_group: FakeGroup) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The running bot, with the admin group configured before it starts."""
    application = await start_application(runtime)
    try:
        yield application
    finally:
        await stop_application(application)


@pytest.fixture
def claire(botapi: BotApiStub) -> FakeUser:
    """A staff member (administrator of the group)."""
    return botapi.user(CLAIRE, "Claire", last_name="Morel")


@pytest.fixture
def paul(botapi: BotApiStub) -> FakeUser:
    """Another staff member (plain member of the group)."""
    return botapi.user(PAUL, "Paul")


@pytest.fixture
def eve(botapi: BotApiStub) -> FakeUser:
    """Not staff: not in the group."""
    return botapi.user(EVE, "Eve")


class CafChangeType:
    """A request type standing for any real one: a change of the CAF number."""

    kind = RequestKind.CAF

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def describe(self, uow: Any, request: Request) -> RequestDescription:
        family = await uow.repos.families.get(request.family_id)
        return RequestDescription(
            title="CAF information",
            changes=(
                FieldChange(
                    "CAF allocataire number", request.payload["caf_number"], family.caf_number
                ),
            ),
        )

    async def accept(self, uow: Any, request: Request, now: dt.datetime) -> None:
        family = await uow.repos.families.get(request.family_id)
        family.caf_number = request.payload["caf_number"]
        self.calls.append(("accept", request.id))

    async def refuse(self, uow: Any, request: Request, now: dt.datetime) -> None:
        self.calls.append(("refuse", request.id))


@pytest.fixture
def caf_type(monkeypatch: pytest.MonkeyPatch) -> CafChangeType:
    """The CAF request type, registered for the test."""
    request_type = CafChangeType()
    monkeypatch.setitem(requests_service._REGISTRY, RequestKind.CAF, request_type)
    return request_type


SubmitRequest = Callable[..., Awaitable[int]]


@pytest.fixture
def submit(runtime: Runtime, bot: Application, clock: Any) -> SubmitRequest:  # type: ignore[type-arg]
    """A parent's request, committed as a feature would (its card is queued with it).

    By default the story waits until the sender has tried the card, as when parents act one
    after the other; `wait=False` submits at once, as in a burst.
    """

    async def do_submit(
        number: str = DUPONT,
        caf_number: str = "7654321",
        *,
        attachment: tuple[str, str] | None = None,
        wait: bool = True,
    ) -> int:
        async with runtime.database.unit_of_work() as uow:
            family = await uow.repos.families.get_by_number(number)
            request = await requests_service.submit_request(
                uow,
                family_id=family.id,
                kind=RequestKind.CAF,
                payload={"caf_number": caf_number},
                created_by=101,
                now=clock(),
                attachment_file_id=attachment[0] if attachment else None,
                attachment_kind=attachment[1] if attachment else None,
            )
            await uow.commit()
        if wait:
            await wait_until(lambda: _card_tried(runtime, request.id))
        return request.id

    return do_submit


async def _card_tried(runtime: Runtime, request_id: int) -> bool:
    async with runtime.database.unit_of_work() as uow:
        rows = await uow.repos.outbox.of_template(CARD_TEMPLATE, request_id=request_id)
    return all(
        row.status not in ("pending", "sending") or (row.status == "pending" and row.attempts > 0)
        for row in rows
    )


async def wait_until(probe: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll an async condition (the database) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await probe():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def plain(text: str) -> str:
    """Text with babel's narrow spaces made ordinary."""
    return text.replace("\u202f", " ").replace("\xa0", " ")
