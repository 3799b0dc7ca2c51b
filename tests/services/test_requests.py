"""The generic request mechanism: submit once, decide once, the registered type applies it."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.model import RequestKind, RequestStatus
from bot.services import requests as requests_service
from bot.services.requests import DecisionOutcome, FieldChange, RequestDescription
from storage.db import Database
from storage.models import Request

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


class RecordingType:
    """A request type that records what it was asked to do."""

    kind = RequestKind.CAF

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def describe(self, uow, request: Request) -> RequestDescription:  # type: ignore[no-untyped-def]
        return RequestDescription(title="CAF", changes=(FieldChange("n°", request.payload["caf_number"], "1234567"),))

    async def accept(self, uow, request: Request, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(("accept", request.id))

    async def refuse(self, uow, request: Request, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(("refuse", request.id))


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingType:
    recorder = RecordingType()
    monkeypatch.setitem(requests_service._REGISTRY, RequestKind.CAF, recorder)
    return recorder


async def _submit(db: Database, key: str | None = "k1") -> int:
    async with db.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        request = await requests_service.submit_request(
            uow, family_id=family.id, kind=RequestKind.CAF, payload={"caf_number": "7654321"},
            created_by=101, now=NOW, idempotency_key=key,
        )
        await uow.commit()
        return request.id


async def test_a_repeated_submission_is_one_request(any_demo_database: Database) -> None:
    assert await _submit(any_demo_database) == await _submit(any_demo_database)
    async with any_demo_database.unit_of_work() as uow:
        assert len(await requests_service.pending_requests(uow)) == 1


@pytest.mark.parametrize("accept", [True, False])
async def test_a_request_is_decided_once(any_demo_database: Database, recording: RecordingType, accept: bool) -> None:
    request_id = await _submit(any_demo_database)
    async with any_demo_database.unit_of_work() as uow:
        first = await requests_service.decide_request(
            uow, request_id, accept=accept, staff_id=9, staff_name="Claire", now=NOW, reason="Pièce manquante"
        )
        await uow.commit()
    async with any_demo_database.unit_of_work() as uow:
        second = await requests_service.decide_request(uow, request_id, accept=not accept, staff_id=8, staff_name="Paul", now=NOW)
        await uow.commit()
    assert first.outcome == DecisionOutcome.DECIDED and second.outcome == DecisionOutcome.ALREADY_DECIDED
    assert recording.calls == [("accept" if accept else "refuse", request_id)]
    async with any_demo_database.unit_of_work() as uow:
        stored = await uow.repos.requests.get(request_id)
        audit = await uow.repos.audit.entries(action=requests_service.ACTION_DECIDE)
    assert stored.status == (RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED)
    assert stored.decided_by_name == "Claire"
    assert stored.reason == (None if accept else "Pièce manquante")
    assert len(audit) == 1 and audit[0].actor_telegram_id == 9


async def test_unknown_request_is_not_found(demo_database: Database) -> None:
    async with demo_database.unit_of_work() as uow:
        result = await requests_service.decide_request(uow, 999, accept=True, staff_id=9, staff_name="C", now=NOW)
    assert result.outcome == DecisionOutcome.NOT_FOUND


async def test_description_comes_from_the_registered_type(demo_database: Database, recording: RecordingType) -> None:
    request_id = await _submit(demo_database)
    async with demo_database.unit_of_work() as uow:
        description = await requests_service.describe_request(uow, await uow.repos.requests.get(request_id))
    assert description.changes == (FieldChange("n°", "7654321", "1234567"),)
