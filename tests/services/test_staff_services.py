"""The staff's use cases on both engines: closures, headcounts, inbox, announcements, cards."""

from __future__ import annotations

import datetime as dt

from bot.domain.model import DayStatus, HealthItemKind, MessageDirection, RequestKind, RequestStatus
from bot.services import announcements, inbox, request_cards, staff_day
from bot.services.notifications import family_recipients, record_reachability
from bot.services.requests import submit_request
from storage.db import Database, UnitOfWork
from storage.models import DayEntry, HealthItem, TelegramLink, TelegramUser

NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.timezone.utc)
TODAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)
DUPONT, MARTIN = "1001001818331", "1001001818332"


async def _family_id(uow: UnitOfWork, number: str) -> int:
    return (await uow.repos.families.get_by_number(number)).id


async def _link(db: Database, number: str, user_id: int, language: str | None = None) -> None:
    async with db.unit_of_work() as uow:
        uow.session.add(TelegramUser(id=user_id, language=language))
        await uow.session.flush()
        uow.session.add(TelegramLink(family_id=await _family_id(uow, number), telegram_user_id=user_id, linked_at=NOW, linked_by="invite"))
        await uow.commit()


async def _book(db: Database, status: DayStatus, service: str = "cantine", number: str = DUPONT, child_index: int = 0) -> int:
    async with db.unit_of_work() as uow:
        family_id = await _family_id(uow, number)
        child = (await uow.repos.families.children(family_id))[child_index]
        service_row = await uow.repos.structure.service_by_code(service)
        entry = DayEntry(child_id=child.id, service_id=service_row.id, family_id=family_id, day=TUESDAY, status=status)
        uow.session.add(entry)
        await uow.commit()
        return entry.id


async def test_a_closure_cancels_place_holding_bookings_once(any_demo_database: Database) -> None:
    db = any_demo_database
    await _link(db, DUPONT, 101, "en")
    reserved = await _book(db, DayStatus.RESERVED)
    excused = await _book(db, DayStatus.ABSENT_EXCUSED, child_index=1)
    other_service = await _book(db, DayStatus.REGULAR, service="garderie_soir")
    async with db.unit_of_work() as uow:
        result = await staff_day.close_day(
            uow, day=TUESDAY, service_code="cantine", reason="Grève", staff_id=9, now=NOW, today=TODAY, notice_body="Fermé"
        )
        await uow.commit()
    assert result.outcome == staff_day.ClosureOutcome.CLOSED and result.cancelled == 1
    assert [(n.bookings[0].service_name, [r.telegram_user_id for r in n.recipients]) for n in result.notices] == [
        ("Restauration scolaire", [101])
    ]
    async with db.unit_of_work() as uow:
        statuses = [(await uow.session.get(DayEntry, i)).status for i in (reserved, excused, other_service)]
        again = await staff_day.close_day(
            uow, day=TUESDAY, service_code="cantine", reason="Grève", staff_id=9, now=NOW, today=TODAY
        )
        family_id = await _family_id(uow, DUPONT)
        notices = await uow.repos.messages.of_family(family_id, direction=MessageDirection.FROM_STRUCTURE, deleted=False, limit=5)
    assert statuses == [DayStatus.CANCELLED, DayStatus.ABSENT_EXCUSED, DayStatus.REGULAR]
    assert again.outcome == staff_day.ClosureOutcome.ALREADY_CLOSED
    assert [(m.subject, m.body) for m in notices] == [("closure", "Fermé")]


async def test_a_past_day_or_an_unknown_service_is_not_closed(any_demo_database: Database) -> None:
    async with any_demo_database.unit_of_work() as uow:
        past = await staff_day.close_day(uow, day=TODAY - dt.timedelta(days=1), service_code=None, reason="x", staff_id=9, now=NOW, today=TODAY)
        unknown = await staff_day.close_day(uow, day=TUESDAY, service_code="piscine", reason="x", staff_id=9, now=NOW, today=TODAY)
        whole = await staff_day.close_day(uow, day=TUESDAY, service_code=None, reason="Pont", staff_id=9, now=NOW, today=TODAY)
        twice = await staff_day.close_day(uow, day=TUESDAY, service_code=None, reason="Pont", staff_id=9, now=NOW, today=TODAY)
    assert [past.outcome, unknown.outcome, whole.outcome, twice.outcome] == [
        staff_day.ClosureOutcome.PAST_DAY,
        staff_day.ClosureOutcome.UNKNOWN_SERVICE,
        staff_day.ClosureOutcome.CLOSED,
        staff_day.ClosureOutcome.ALREADY_CLOSED,
    ]


async def test_headcount_counts_expected_children_with_allergies(any_demo_database: Database) -> None:
    db = any_demo_database
    await _book(db, DayStatus.RESERVED)
    await _book(db, DayStatus.ABSENT_BILLED, child_index=1)
    await _book(db, DayStatus.REGULAR, number=MARTIN)
    async with db.unit_of_work() as uow:
        lucas = (await uow.repos.families.children(await _family_id(uow, DUPONT)))[0]
        uow.session.add(HealthItem(child_id=lucas.id, kind=HealthItemKind.ALLERGY, description="gluten"))
        uow.session.add(HealthItem(child_id=lucas.id, kind=HealthItemKind.ILLNESS, description="asthme"))
        await uow.commit()
    async with db.unit_of_work() as uow:
        counted = await staff_day.headcount(uow, TUESDAY)
    cantine = next(s for s in counted.services if s.code == "cantine")
    assert cantine.count == 2
    assert [(c.first_name, c.allergies) for c in cantine.children] == [(lucas.first_name, ("gluten",)), ("CHLOÉ", ())]
    assert all(s.count == 0 for s in counted.services if s.code != "cantine")


async def test_the_inbox_thread_read_and_delete(any_demo_database: Database) -> None:
    db = any_demo_database
    async with db.unit_of_work() as uow:
        dupont, martin = await _family_id(uow, DUPONT), await _family_id(uow, MARTIN)
        question = await inbox.write_to_structure(uow, family_id=dupont, user_id=101, author_name="Jean", body="Question ?", now=NOW)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert [v.message.id for v in await inbox.unrelayed(uow, 10)] == [question.id]
        await inbox.mark_relayed(uow, question.id, 77)
        answer = await inbox.reply_from_staff(uow, admin_message_id=77, staff_id=9, staff_name="Claire", body="Réponse.", now=NOW)
        assert await inbox.reply_from_staff(uow, admin_message_id=78, staff_id=9, staff_name="Claire", body="x", now=NOW) is None
        await uow.commit()
    assert answer is not None and answer.family_id == dupont and answer.replied_to.id == question.id
    async with db.unit_of_work() as uow:
        assert await inbox.unrelayed(uow, 10) == []
        assert (await inbox.inbox_summary(uow, dupont)).unread == 1
        assert await inbox.open_message(uow, martin, answer.message.id, NOW) is None  # not theirs
        thread = await inbox.open_message(uow, dupont, question.id, NOW)
        await uow.commit()
    assert [r.body for r in thread.replies] == ["Réponse."]
    async with db.unit_of_work() as uow:
        assert (await inbox.inbox_summary(uow, dupont)).unread == 0  # the answer was shown
        assert await inbox.delete_message(uow, martin, answer.message.id, 201, NOW) is False
        assert await inbox.delete_message(uow, dupont, answer.message.id, 101, NOW) is True
        assert await inbox.delete_message(uow, dupont, answer.message.id, 101, NOW) is True  # idempotent
        await uow.commit()
        summary = await inbox.inbox_summary(uow, dupont)
        deleted = await inbox.list_box(uow, dupont, inbox.Box.DELETED, 0)
    assert (summary.received, summary.sent, summary.deleted) == (0, 1, 1)
    assert [m.id for m in deleted.messages] == [answer.message.id]


async def test_an_announcement_goes_in_every_linked_familys_inbox(any_demo_database: Database) -> None:
    db = any_demo_database
    await _link(db, DUPONT, 101)
    await _link(db, DUPONT, 102, "en")
    await _link(db, MARTIN, 201)
    async with db.unit_of_work() as uow:
        reach = await announcements.audience(uow)
        publication = await announcements.publish_announcement(uow, body="Fermé le 18", staff_id=9, staff_name="Claire", now=NOW)
        await uow.commit()
    assert (reach.families, reach.accounts) == (2, 3)
    assert sorted(r.telegram_user_id for r in publication.recipients) == [101, 102, 201]
    async with db.unit_of_work() as uow:
        for number in (DUPONT, MARTIN):
            received = await uow.repos.messages.of_family(await _family_id(uow, number), direction=MessageDirection.FROM_STRUCTURE, deleted=False, limit=5)
            assert [(m.subject, m.body) for m in received] == [("announcement", "Fermé le 18")]


async def test_an_account_that_blocked_the_bot_is_noted_then_forgotten(any_demo_database: Database) -> None:
    db = any_demo_database
    await _link(db, DUPONT, 101)
    later = NOW + dt.timedelta(days=1)
    async with db.unit_of_work() as uow:
        await record_reachability(uow, reached=[], unreachable=[101], now=NOW)
        await record_reachability(uow, reached=[], unreachable=[101], now=later)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert (await uow.repos.telegram.get_user(101)).unreachable_since == NOW  # the first date is kept
        assert [r.language for r in await family_recipients(uow, await _family_id(uow, DUPONT))] == [None]
        await record_reachability(uow, reached=[101], unreachable=[], now=later)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert (await uow.repos.telegram.get_user(101)).unreachable_since is None


async def test_cards_wait_until_shown_and_decided_ones_leave_the_queue(any_demo_database: Database) -> None:
    db = any_demo_database
    async with db.unit_of_work() as uow:
        family_id = await _family_id(uow, DUPONT)
        ids = []
        for index in range(3):
            request = await submit_request(
                uow, family_id=family_id, kind=RequestKind.FISCAL, payload={"regime": "msa"}, created_by=101,
                now=NOW + dt.timedelta(minutes=index),
            )
            ids.append(request.id)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert [c.request_id for c in await request_cards.unposted_cards(uow, 10)] == ids
        await request_cards.record_card_message(uow, [ids[0]], 41)
        await request_cards.record_card_message(uow, [ids[1]], request_cards.digest_reference(42))
        decision = await request_cards.decide_from_card(uow, ids[2], accept=False, staff_id=9, staff_name="Claire", now=NOW, reason="Non")
        await uow.commit()
    assert decision.card.status == RequestStatus.REFUSED and decision.card.reason == "Non"
    async with db.unit_of_work() as uow:
        assert await request_cards.unposted_cards(uow, 10) == []
        pending = await request_cards.pending_cards(uow)
    assert [(c.request_id, c.admin_message_id, c.family_name) for c in pending] == [
        (ids[0], 41, "JEAN DUPONT"),
        (ids[1], -42, "JEAN DUPONT"),
    ]
