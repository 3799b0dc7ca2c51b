"""The generic request mechanism: submit once, decide once, the registered type applies it."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.model import RequestKind, RequestStatus
from bot.services import request_cards
from bot.services import requests as requests_service
from bot.services.request_cards import DecisionFailed
from bot.services.requests import (
    CARD_TEMPLATE,
    CARD_UPDATE_TEMPLATE,
    DECIDED_TEMPLATE,
    DecisionOutcome,
    FieldChange,
    RequestDescription,
)
from storage.db import Database
from storage.models import Request, TelegramLink, TelegramUser

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


class RecordingType:
    """A request type that records what it was asked to do."""

    kind = RequestKind.CAF

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def describe(self, uow, request: Request) -> RequestDescription:  # type: ignore[no-untyped-def]
        return RequestDescription(
            title="CAF", changes=(FieldChange("n°", request.payload["caf_number"], "1234567"),)
        )

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
            uow,
            family_id=family.id,
            kind=RequestKind.CAF,
            payload={"caf_number": "7654321"},
            created_by=101,
            now=NOW,
            idempotency_key=key,
        )
        await uow.commit()
        return request.id


async def test_a_repeated_submission_is_one_request_and_one_card(
    any_demo_database: Database,
) -> None:
    request_id = await _submit(any_demo_database)
    assert await _submit(any_demo_database) == request_id
    async with any_demo_database.unit_of_work() as uow:
        assert len(await requests_service.pending_requests(uow)) == 1
        cards = await uow.repos.outbox.of_template(CARD_TEMPLATE)
    assert [(row.audience, row.params, row.status) for row in cards] == [
        ("staff", {"request_id": request_id}, "pending")
    ]


async def test_a_request_rolled_back_leaves_no_card(any_demo_database: Database) -> None:
    async with any_demo_database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        await requests_service.submit_request(
            uow,
            family_id=family.id,
            kind=RequestKind.CAF,
            payload={"caf_number": "1"},
            created_by=101,
            now=NOW,
        )
        await uow.rollback()
    async with any_demo_database.unit_of_work() as uow:
        assert await uow.repos.outbox.of_template(CARD_TEMPLATE) == []


async def _link_parents(db: Database, *user_ids: int) -> None:
    async with db.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        for user_id in user_ids:
            uow.session.add(TelegramUser(id=user_id, language="en" if user_id % 2 == 0 else None))
            await uow.session.flush()
            uow.session.add(
                TelegramLink(
                    family_id=family.id, telegram_user_id=user_id, linked_at=NOW, linked_by="invite"
                )
            )
        await uow.commit()


async def _shown_as_card(db: Database, request_id: int, message_id: int) -> None:
    async with db.unit_of_work() as uow:
        await request_cards.record_card_message(uow, [request_id], message_id)
        await uow.commit()


@pytest.mark.parametrize("tapped_on_the_group_card", [False, True])
async def test_a_decision_tells_the_family_and_the_group_in_its_transaction(
    any_demo_database: Database, recording: RecordingType, tapped_on_the_group_card: bool
) -> None:
    db = any_demo_database
    await _link_parents(db, 101, 102)
    request_id = await _submit(db)
    await _shown_as_card(db, request_id, 41)
    decision = await request_cards.decide_from_card(
        db,
        request_id,
        accept=False,
        staff_id=9,
        staff_name="Claire",
        now=NOW,
        reason="Pièce manquante",
        edited_in_group=41 if tapped_on_the_group_card else None,
    )
    assert decision.outcome == DecisionOutcome.DECIDED and decision.families_told == 2
    assert decision.card is not None and decision.card.status == RequestStatus.REFUSED
    async with db.unit_of_work() as uow:
        notices = await uow.repos.outbox.of_template(DECIDED_TEMPLATE, request_id=request_id)
        updates = await uow.repos.outbox.of_template(CARD_UPDATE_TEMPLATE, request_id=request_id)
        staff_audit = await uow.repos.audit.entries(action=request_cards.ACTION_REFUSE)
    assert sorted((row.chat_id, row.language, row.params["accepted"]) for row in notices) == [
        (101, None, False),
        (102, "en", False),
    ]
    # the card the staff member tapped is edited by the handler itself; any other copy by the outbox
    assert [row.audience for row in updates] == ([] if tapped_on_the_group_card else ["staff"])
    assert [(e.actor_telegram_id, e.outcome, e.target) for e in staff_audit] == [
        (9, "ok", f"request:{request_id}")
    ]


async def test_a_second_decision_tells_nobody(
    any_demo_database: Database, recording: RecordingType
) -> None:
    db = any_demo_database
    await _link_parents(db, 101)
    request_id = await _submit(db)
    await _shown_as_card(db, request_id, 41)
    await request_cards.decide_from_card(
        db, request_id, accept=True, staff_id=9, staff_name="Claire", now=NOW
    )
    late = await request_cards.decide_from_card(
        db, request_id, accept=False, staff_id=8, staff_name="Paul", now=NOW
    )
    assert late.outcome == DecisionOutcome.ALREADY_DECIDED and late.card.decided_by_name == "Claire"
    async with db.unit_of_work() as uow:
        assert len(await uow.repos.outbox.of_template(DECIDED_TEMPLATE)) == 1
        assert len(await uow.repos.outbox.of_template(CARD_UPDATE_TEMPLATE)) == 1
        refusals = await uow.repos.audit.entries(action=request_cards.ACTION_REFUSE)
    assert [(e.actor_telegram_id, e.outcome) for e in refusals] == [(8, "already_decided")]


async def test_a_failing_decision_writes_neither_notice_nor_card_update(
    any_demo_database: Database, recording: RecordingType, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = any_demo_database
    await _link_parents(db, 101)
    request_id = await _submit(db)
    await _shown_as_card(db, request_id, 41)

    async def impossible(uow, request: Request, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("the record changed meanwhile")

    monkeypatch.setattr(recording, "accept", impossible)
    with pytest.raises(DecisionFailed):
        await request_cards.decide_from_card(
            db, request_id, accept=True, staff_id=9, staff_name="Claire", now=NOW
        )
    async with db.unit_of_work() as uow:
        stored = await uow.repos.requests.get(request_id)
        notices = await uow.repos.outbox.of_template(DECIDED_TEMPLATE)
        updates = await uow.repos.outbox.of_template(CARD_UPDATE_TEMPLATE)
        decided = await uow.repos.audit.entries(action=requests_service.ACTION_DECIDE)
        taps = await uow.repos.audit.entries(action=request_cards.ACTION_ACCEPT)
    assert stored.status == RequestStatus.PENDING and stored.decided_by is None
    assert notices == [] and updates == [] and decided == []
    assert [(e.outcome, e.details) for e in taps] == [
        ("failed", {"error": "RuntimeError"})
    ]  # the real outcome


@pytest.mark.parametrize("accept", [True, False])
async def test_a_request_is_decided_once(
    any_demo_database: Database, recording: RecordingType, accept: bool
) -> None:
    request_id = await _submit(any_demo_database)
    async with any_demo_database.unit_of_work() as uow:
        first = await requests_service.decide_request(
            uow,
            request_id,
            accept=accept,
            staff_id=9,
            staff_name="Claire",
            now=NOW,
            reason="Pièce manquante",
        )
        await uow.commit()
    async with any_demo_database.unit_of_work() as uow:
        second = await requests_service.decide_request(
            uow, request_id, accept=not accept, staff_id=8, staff_name="Paul", now=NOW
        )
        await uow.commit()
    assert (
        first.outcome == DecisionOutcome.DECIDED
        and second.outcome == DecisionOutcome.ALREADY_DECIDED
    )
    assert recording.calls == [("accept" if accept else "refuse", request_id)]
    async with any_demo_database.unit_of_work() as uow:
        stored = await uow.repos.requests.get(request_id)
        audit = await uow.repos.audit.entries(action=requests_service.ACTION_DECIDE)
    assert stored.status == (RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED)
    assert stored.decided_by_name == "Claire"
    assert stored.refusal_reason == (None if accept else "Pièce manquante")
    assert len(audit) == 1 and audit[0].actor_telegram_id == 9


async def test_unknown_request_is_not_found(demo_database: Database) -> None:
    async with demo_database.unit_of_work() as uow:
        result = await requests_service.decide_request(
            uow, 999, accept=True, staff_id=9, staff_name="C", now=NOW
        )
    assert result.outcome == DecisionOutcome.NOT_FOUND


async def test_description_comes_from_the_registered_type(
    demo_database: Database, recording: RecordingType
) -> None:
    request_id = await _submit(demo_database)
    async with demo_database.unit_of_work() as uow:
        description = await requests_service.describe_request(
            uow, await uow.repos.requests.get(request_id)
        )
    assert description.changes == (FieldChange("n°", "7654321", "1234567"),)
