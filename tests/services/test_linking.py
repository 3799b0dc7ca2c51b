"""Linking service: invites (valid, used, expired, malformed), N° famille + phone, throttling."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services import linking
from bot.services.linking import LinkOutcome, UnknownFamily, hash_code, normalize_phone
from storage.db import Database

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
DUPONT = "1001001818331"
MARTIN = "1001001818332"


async def _invite(db: Database, number: str = DUPONT, now: dt.datetime = NOW, ttl: int = 30) -> str:
    created = await linking.issue_invite(db, number, now=now, ttl_days=ttl)
    return created.code


async def _redeem(db: Database, code: str, user_id: int, now: dt.datetime = NOW) -> LinkOutcome:
    result = await linking.redeem_invite(db, code, user_id, now)
    return result.outcome


async def test_invite_code_is_stored_hashed_only(demo_database: Database) -> None:
    code = await _invite(demo_database)
    async with demo_database.unit_of_work() as uow:
        invite = await uow.repos.invites.get_by_hash(hash_code(code))
    assert invite is not None and code not in invite.code_hash


async def test_invite_for_unknown_family_is_refused(demo_database: Database) -> None:
    with pytest.raises(UnknownFamily):
        await linking.issue_invite(demo_database, "999", now=NOW, ttl_days=30)


async def test_invite_links_once_then_is_used(demo_database: Database) -> None:
    code = await _invite(demo_database)
    assert await _redeem(demo_database, code, 100) == LinkOutcome.LINKED
    assert await _redeem(demo_database, code, 100) == LinkOutcome.ALREADY_LINKED
    assert await _redeem(demo_database, code, 200) == LinkOutcome.USED_CODE


@pytest.mark.parametrize(
    ("redeemed_at", "expected"),
    [
        (NOW + dt.timedelta(days=30) - dt.timedelta(seconds=1), LinkOutcome.LINKED),
        (NOW + dt.timedelta(days=30), LinkOutcome.EXPIRED_CODE),
    ],
)
async def test_invite_expires(
    demo_database: Database, redeemed_at: dt.datetime, expected: LinkOutcome
) -> None:
    code = await _invite(demo_database)
    assert await _redeem(demo_database, code, 100, redeemed_at) == expected


@pytest.mark.parametrize("code", ["nope", "x" * 65, "bad code with spaces", "A" * 24])
async def test_unknown_or_malformed_code_is_invalid(demo_database: Database, code: str) -> None:
    assert await _redeem(demo_database, code, 100) == LinkOutcome.INVALID_CODE


async def test_a_linked_account_cannot_take_another_familys_invite(demo_database: Database) -> None:
    assert (
        await _redeem(demo_database, await _invite(demo_database, DUPONT), 100)
        == LinkOutcome.LINKED
    )
    other = await _invite(demo_database, MARTIN)
    assert await _redeem(demo_database, other, 100) == LinkOutcome.LINKED_ELSEWHERE
    assert await _redeem(demo_database, other, 300) == LinkOutcome.LINKED  # still unused


async def test_failed_attempts_are_throttled_and_audited(demo_database: Database) -> None:
    for _ in range(linking.MAX_FAILED_ATTEMPTS_PER_HOUR):
        assert await _redeem(demo_database, "wrong-code-123", 100) == LinkOutcome.INVALID_CODE
    good = await _invite(demo_database)
    assert await _redeem(demo_database, good, 100) == LinkOutcome.THROTTLED
    assert (
        await _redeem(demo_database, good, 100, NOW + dt.timedelta(hours=2)) == LinkOutcome.LINKED
    )
    async with demo_database.unit_of_work() as uow:
        refused = [
            e for e in await uow.repos.audit.entries(action="link") if e.outcome == "refused"
        ]
    assert len(refused) == linking.MAX_FAILED_ATTEMPTS_PER_HOUR + 1
    assert all(e.actor_telegram_id == 100 for e in refused)


@pytest.mark.parametrize(
    ("number", "phone", "expected"),
    [
        (DUPONT, "+33612345678", LinkOutcome.LINKED),  # responsable's mobile, as Telegram sends it
        (DUPONT, "33698765432", LinkOutcome.LINKED),  # conjoint's mobile without "+"
        (DUPONT, "0102030405", LinkOutcome.LINKED),  # home phone
        (DUPONT, "+33711223344", LinkOutcome.NO_MATCH),  # another family's phone
        ("1234567890123", "+33612345678", LinkOutcome.NO_MATCH),  # unknown family: same answer
        (DUPONT, "not a phone", LinkOutcome.NO_MATCH),
    ],
)
async def test_link_by_family_number_and_phone(
    demo_database: Database, number: str, phone: str, expected: LinkOutcome
) -> None:
    result = await linking.link_by_contact(
        demo_database, number, phone, contact_user_id=100, user_id=100, now=NOW
    )
    assert result.outcome == expected
    async with demo_database.unit_of_work() as uow:
        link = await uow.repos.telegram.active_link(100)
    assert (link is not None) == (expected == LinkOutcome.LINKED)


async def test_unlink_revokes_and_is_audited(demo_database: Database) -> None:
    await _redeem(demo_database, await _invite(demo_database), 100)
    assert await linking.unlink(demo_database, 100, NOW) is True
    assert await linking.unlink(demo_database, 100, NOW) is False
    async with demo_database.unit_of_work() as uow:
        assert await uow.repos.telegram.active_link(100) is None
        assert [e.outcome for e in await uow.repos.audit.entries(action="unlink")] == ["ok"]


async def test_someone_elses_contact_is_refused_and_audited(demo_database: Database) -> None:
    result = await linking.link_by_contact(
        demo_database,
        DUPONT,
        "+33612345678",
        contact_user_id=101,
        user_id=100,
        now=NOW,  # Jean's card, shared by 100
    )
    assert result.outcome == LinkOutcome.NOT_OWN_CONTACT and result.home is None
    async with demo_database.unit_of_work() as uow:
        assert await uow.repos.telegram.active_link(100) is None
        refused = await uow.repos.audit.entries(action="link")
    assert [(e.outcome, e.actor_telegram_id, e.details["reason"]) for e in refused] == [
        ("refused", 100, "not_own_contact")
    ]


async def test_a_link_comes_with_the_familys_home_screen(demo_database: Database) -> None:
    code = await _invite(demo_database)
    linked = await linking.redeem_invite(demo_database, code, 100, NOW)
    again = await linking.redeem_invite(demo_database, code, 100, NOW)
    for result in (linked, again):
        assert result.home is not None and result.home.family_number == DUPONT
        assert result.home.greeting_name == "JEAN DUPONT"
    refused = await linking.redeem_invite(demo_database, code, 200, NOW)
    assert refused.outcome == LinkOutcome.USED_CODE and refused.home is None


async def test_an_invite_made_by_staff_is_audited_with_their_id(demo_database: Database) -> None:
    await linking.issue_invite(demo_database, DUPONT, now=NOW, ttl_days=30, staff_id=900)
    async with demo_database.unit_of_work() as uow:
        entries = await uow.repos.audit.entries(action=linking.ACTION_INVITE)
    assert [(e.outcome, e.actor_telegram_id, e.actor_kind) for e in entries] == [
        ("ok", 900, "staff")
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("33612345678", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("12", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_phone(raw: str | None, expected: str | None) -> None:
    assert normalize_phone(raw) == expected
