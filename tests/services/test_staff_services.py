"""The staff's use cases on both engines: closures, headcounts, unlinking, inbox, announcements, cards."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.model import (
    Custody,
    DayStatus,
    HealthItemKind,
    MessageDirection,
    RequestKind,
    RequestStatus,
)
from bot.services import announcements, booking_windows, custody, inbox, request_cards, staff_day
from bot.services.notifications import family_recipients, record_reachability
from bot.services.outbox import Priority
from bot.services.requests import CARD_TEMPLATE, submit_request
from bot.services.use_case import NotAllowed
from bot.structure import Structure
from storage.db import Database, UnitOfWork
from storage.models import DayEntry, Family, HealthItem, TelegramLink, TelegramUser

NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)
DUPONT, MARTIN = "1001001818331", "1001001818332"


async def _family_id(uow: UnitOfWork, number: str) -> int:
    return (await uow.repos.families.get_by_number(number)).id


async def _link(db: Database, number: str, user_id: int, language: str | None = None) -> None:
    async with db.unit_of_work() as uow:
        uow.session.add(TelegramUser(id=user_id, language=language))
        await uow.session.flush()
        uow.session.add(
            TelegramLink(
                family_id=await _family_id(uow, number),
                telegram_user_id=user_id,
                linked_at=NOW,
                linked_by="invite",
            )
        )
        await uow.commit()


async def _book(
    db: Database,
    status: DayStatus,
    service: str = "cantine",
    number: str = DUPONT,
    child_index: int = 0,
) -> int:
    async with db.unit_of_work() as uow:
        family_id = await _family_id(uow, number)
        child = (await uow.repos.families.children(family_id))[child_index]
        service_row = await uow.repos.structure.service_by_code(service)
        entry = DayEntry(
            child_id=child.id,
            service_id=service_row.id,
            family_id=family_id,
            day=TUESDAY,
            status=status,
        )
        uow.session.add(entry)
        await uow.commit()
        return entry.id


async def test_a_closure_cancels_place_holding_bookings_once(any_demo_database: Database) -> None:
    db = any_demo_database
    await _link(db, DUPONT, 101, "en")
    reserved = await _book(db, DayStatus.RESERVED)
    excused = await _book(db, DayStatus.ABSENT_EXCUSED, child_index=1)
    other_service = await _book(db, DayStatus.REGULAR, service="garderie_soir")
    result = await staff_day.close_day(
        db,
        day=TUESDAY,
        service_code="cantine",
        reason="Grève",
        staff_id=9,
        now=NOW,
        today=TODAY,
        notice_body="Fermé",
    )
    assert result.outcome == staff_day.ClosureOutcome.CLOSED and result.cancelled == 1
    assert (result.families, result.accounts) == (1, 1)
    again = await staff_day.close_day(
        db, day=TUESDAY, service_code="cantine", reason="Grève", staff_id=9, now=NOW, today=TODAY
    )
    assert again.outcome == staff_day.ClosureOutcome.ALREADY_CLOSED
    async with db.unit_of_work() as uow:
        statuses = [
            (await uow.session.get(DayEntry, i)).status for i in (reserved, excused, other_service)
        ]
        family_id = await _family_id(uow, DUPONT)
        lucas = (await uow.repos.families.children(family_id))[0]
        notices = await uow.repos.messages.of_family(
            family_id, direction=MessageDirection.FROM_STRUCTURE, deleted=False, limit=5
        )
        told = await uow.repos.outbox.of_template(staff_day.TEMPLATE_CLOSURE)
        audit = await uow.repos.audit.entries(action=staff_day.ACTION_CLOSE_DAY)
    assert statuses == [DayStatus.CANCELLED, DayStatus.ABSENT_EXCUSED, DayStatus.REGULAR]
    assert [(m.subject, m.body) for m in notices] == [("closure", "Fermé")]
    assert [(row.chat_id, row.language, row.family_id, row.params) for row in told] == [
        (
            101,
            "en",
            family_id,
            {
                "day": TUESDAY.isoformat(),
                "service": "Restauration scolaire",
                "reason": "Grève",
                "bookings": [[f"{lucas.first_name} {lucas.last_name}", "Restauration scolaire"]],
            },
        )
    ]  # told once: closing it again queued nothing
    assert [(e.actor_telegram_id, e.outcome, e.details["result"]) for e in audit] == [
        (9, "ok", "closed"),
        (9, "refused", "already_closed"),
    ]


async def test_a_past_day_or_an_unknown_service_is_not_closed(any_demo_database: Database) -> None:
    db = any_demo_database
    past = await staff_day.close_day(
        db,
        day=TODAY - dt.timedelta(days=1),
        service_code=None,
        reason="x",
        staff_id=9,
        now=NOW,
        today=TODAY,
    )
    unknown = await staff_day.close_day(
        db, day=TUESDAY, service_code="piscine", reason="x", staff_id=9, now=NOW, today=TODAY
    )
    whole = await staff_day.close_day(
        db, day=TUESDAY, service_code=None, reason="Pont", staff_id=9, now=NOW, today=TODAY
    )
    twice = await staff_day.close_day(
        db, day=TUESDAY, service_code=None, reason="Pont", staff_id=9, now=NOW, today=TODAY
    )
    assert [past.outcome, unknown.outcome, whole.outcome, twice.outcome] == [
        staff_day.ClosureOutcome.PAST_DAY,
        staff_day.ClosureOutcome.UNKNOWN_SERVICE,
        staff_day.ClosureOutcome.CLOSED,
        staff_day.ClosureOutcome.ALREADY_CLOSED,
    ]
    async with db.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action=staff_day.ACTION_CLOSE_DAY)
        closures = await uow.repos.planning.closures_between(TODAY - dt.timedelta(days=1), TUESDAY)
    assert [e.outcome for e in audit] == ["refused", "refused", "ok", "refused"]
    assert [(c.reason, code) for c, code in closures] == [("Pont", None)]


async def test_headcount_counts_expected_children_with_allergies(
    any_demo_database: Database,
) -> None:
    db = any_demo_database
    await _book(db, DayStatus.RESERVED)
    await _book(db, DayStatus.ABSENT_BILLED, child_index=1)
    await _book(db, DayStatus.REGULAR, number=MARTIN)
    async with db.unit_of_work() as uow:
        lucas = (await uow.repos.families.children(await _family_id(uow, DUPONT)))[0]
        uow.session.add(
            HealthItem(child_id=lucas.id, kind=HealthItemKind.ALLERGY, description="gluten")
        )
        uow.session.add(
            HealthItem(child_id=lucas.id, kind=HealthItemKind.ILLNESS, description="asthme")
        )
        await uow.commit()
    counted = await staff_day.staff_headcount(db, TUESDAY, staff_id=9, now=NOW)
    cantine = next(s for s in counted.services if s.code == "cantine")
    assert cantine.count == 2
    assert [(c.first_name, c.allergies) for c in cantine.children] == [
        (lucas.first_name, ("gluten",)),
        ("CHLOÉ", ()),
    ]
    assert all(s.count == 0 for s in counted.services if s.code != "cantine")
    async with db.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action=staff_day.ACTION_HEADCOUNT)
    assert [(e.actor_telegram_id, e.target) for e in audit] == [(9, f"day:{TUESDAY.isoformat()}")]


async def test_unlinking_an_account_tells_it_once_and_is_audited(
    any_demo_database: Database,
) -> None:
    db = any_demo_database
    await _link(db, DUPONT, 101, "en")
    sheet = await staff_day.family_sheet(
        db, DUPONT, since=NOW - dt.timedelta(days=30), staff_id=9, now=NOW
    )
    assert sheet is not None and [a.telegram_user_id for a in sheet.accounts] == [101]
    assert await staff_day.family_sheet(db, "999", since=NOW, staff_id=9, now=NOW) is None
    link_id = sheet.accounts[0].link_id
    revoked = await staff_day.revoke_link(db, link_id, staff_id=9, now=NOW)
    assert revoked is not None and (revoked.telegram_user_id, revoked.family_number) == (
        101,
        DUPONT,
    )
    assert await staff_day.revoke_link(db, link_id, staff_id=9, now=NOW) is None  # a double tap
    assert await staff_day.revoke_link(db, 9999, staff_id=9, now=NOW) is None
    async with db.unit_of_work() as uow:
        told = await uow.repos.outbox.of_template(staff_day.TEMPLATE_UNLINKED)
        revokes = await uow.repos.audit.entries(action=staff_day.ACTION_REVOKE_LINK)
        looks = await uow.repos.audit.entries(action=staff_day.ACTION_FAMILY_SHEET)
        assert await uow.repos.telegram.active_link(101) is None
    assert [(row.chat_id, row.language) for row in told] == [(101, "en")]
    assert [(e.outcome, e.target) for e in revokes] == [
        ("ok", f"telegram_link:{link_id}"),
        ("refused", "telegram_link:9999"),
    ]
    assert [(e.outcome, e.family_id is not None) for e in looks] == [
        ("ok", True),
        ("refused", False),
    ]


async def test_the_inbox_thread_read_and_delete(any_demo_database: Database) -> None:
    db = any_demo_database
    await _link(db, DUPONT, 101)
    await _link(db, MARTIN, 201)
    question = await inbox.send_to_structure(
        db, 101, author_name="Jean", body="Question ?", now=NOW
    )
    async with db.unit_of_work() as uow:
        dupont, martin = await _family_id(uow, DUPONT), await _family_id(uow, MARTIN)
        relays = await uow.repos.outbox.of_template(inbox.FAMILY_MESSAGE_TEMPLATE)
        await inbox.mark_relayed(
            uow, question.id, 77
        )  # what the sender's hook does once it is posted
        await uow.commit()
    assert [(row.audience, row.params) for row in relays] == [
        ("staff", {"message_id": question.id})
    ]
    answer = await inbox.reply_from_staff(
        db, admin_message_id=77, staff_id=9, staff_name="Claire", body="Réponse.", now=NOW
    )
    assert (
        await inbox.reply_from_staff(
            db, admin_message_id=78, staff_id=9, staff_name="Claire", body="x", now=NOW
        )
        is None
    )
    assert answer is not None and answer.family_id == dupont and answer.replied_to.id == question.id
    assert (answer.accounts, answer.blocked) == (1, 0)
    async with db.unit_of_work() as uow:
        told = await uow.repos.outbox.of_template(inbox.STRUCTURE_MESSAGE_TEMPLATE)
        audit = await uow.repos.audit.entries(action=inbox.ACTION_STAFF_REPLY)
    assert [(row.chat_id, row.params) for row in told] == [(101, {"message_id": answer.message.id})]
    assert [(e.actor_telegram_id, e.family_id) for e in audit] == [(9, dupont)]
    assert (await inbox.summary(db, 101)).unread == 1
    with pytest.raises(NotAllowed):
        await inbox.read_message(db, 201, answer.message.id, NOW)  # not theirs
    thread = await inbox.read_message(db, 101, question.id, NOW)
    assert [r.body for r in thread.replies] == ["Réponse."]
    assert (await inbox.summary(db, 101)).unread == 0  # the answer was shown
    with pytest.raises(NotAllowed):
        await inbox.remove_message(db, 201, answer.message.id, NOW)
    deleted = await inbox.remove_message(db, 101, answer.message.id, NOW)
    assert [
        m.id for m in (await inbox.remove_message(db, 101, answer.message.id, NOW)).messages
    ] == [answer.message.id]  # idempotent
    summary = await inbox.summary(db, 101)
    assert (summary.received, summary.sent, summary.deleted) == (0, 1, 1)
    assert [m.id for m in deleted.messages] == [answer.message.id]
    async with db.unit_of_work() as uow:
        refused = await uow.repos.audit.entries(action=inbox.ACTION_ACCESS)
    assert [(e.actor_telegram_id, e.family_id, e.outcome) for e in refused] == [
        (201, martin, "refused")
    ] * 2


async def test_a_message_to_a_family_is_queued_to_its_accounts_or_refused(
    any_demo_database: Database,
) -> None:
    db = any_demo_database
    await _link(db, DUPONT, 101)
    await _link(db, DUPONT, 102, "en")
    async with db.unit_of_work() as uow:
        await record_reachability(uow, reached=[], unreachable=[102], now=NOW)
        await uow.commit()
    sent = await inbox.message_family(
        db, family_number=DUPONT, staff_id=9, staff_name="Claire", body="Bonjour", now=NOW
    )
    assert (sent.accounts, sent.blocked, sent.family_name) == (2, 1, "JEAN DUPONT")
    with pytest.raises(inbox.UnknownFamily):
        await inbox.message_family(
            db, family_number="999", staff_id=9, staff_name="Claire", body="x", now=NOW
        )
    async with db.unit_of_work() as uow:
        told = await uow.repos.outbox.of_template(
            inbox.STRUCTURE_MESSAGE_TEMPLATE, message_id=sent.message.id
        )
        audit = await uow.repos.audit.entries(action=inbox.ACTION_STAFF_MESSAGE)
    assert sorted((row.chat_id, row.language) for row in told) == [(101, None), (102, "en")]
    assert [(e.outcome, e.target) for e in audit] == [
        ("ok", f"message:{sent.message.id}"),
        ("refused", "family:999"),
    ]


async def test_an_announcement_goes_in_every_linked_familys_inbox(
    any_demo_database: Database,
) -> None:
    db = any_demo_database
    await _link(db, DUPONT, 101)
    await _link(db, DUPONT, 102, "en")
    await _link(db, MARTIN, 201)
    reach = await announcements.audience(db, staff_id=9, now=NOW)
    publication = await announcements.publish_announcement(
        db, body="Fermé le 18", staff_id=9, staff_name="Claire", now=NOW
    )
    assert (reach.families, reach.accounts) == (2, 3)
    assert (publication.families, publication.accounts) == (2, 3)
    async with db.unit_of_work() as uow:
        copies = {}
        for number in (DUPONT, MARTIN):
            received = await uow.repos.messages.of_family(
                await _family_id(uow, number),
                direction=MessageDirection.FROM_STRUCTURE,
                deleted=False,
                limit=5,
            )
            assert [(m.subject, m.body) for m in received] == [("announcement", "Fermé le 18")]
            copies[number] = received[0].id
        rows = await uow.repos.outbox.of_template(announcements.TEMPLATE_ANNOUNCEMENT)
        reports = await uow.repos.outbox.of_template(announcements.TEMPLATE_REPORT)
    assert sorted(
        (row.chat_id, row.language, row.params["message_id"], row.priority) for row in rows
    ) == [
        (101, None, copies[DUPONT], Priority.BROADCAST),
        (102, "en", copies[DUPONT], Priority.BROADCAST),
        (201, None, copies[MARTIN], Priority.BROADCAST),
    ]
    assert [(row.audience, row.params["poll"]) for row in reports] == [
        ("staff", 0)
    ]  # to the admin group
    assert await announcements.announcement_text(db, copies[MARTIN]) == "Fermé le 18"


async def test_an_announcement_to_500_families_is_500_rows_of_one_transaction(
    any_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = any_database
    async with db.unit_of_work() as uow:
        for index in range(500):
            family = Family(number=f"3000{index:05d}")
            uow.repos.families.add(family)
            await uow.session.flush()
            uow.session.add(TelegramUser(id=10_000 + index))
            await uow.session.flush()
            uow.session.add(
                TelegramLink(
                    family_id=family.id,
                    telegram_user_id=10_000 + index,
                    linked_at=NOW,
                    linked_by="invite",
                )
            )
        await uow.commit()

    def failing_audit(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(
        announcements, "audit_staff", failing_audit
    )  # the last write of the use case fails…
    with pytest.raises(RuntimeError):
        await announcements.publish_announcement(
            db, body="Fête", staff_id=9, staff_name="Claire", now=NOW
        )
    async with db.unit_of_work() as uow:  # …and nothing of it is kept: no copy, no message
        assert await uow.repos.outbox.of_template(announcements.TEMPLATE_ANNOUNCEMENT) == []
        assert await uow.repos.outbox.of_template(announcements.TEMPLATE_REPORT) == []
        assert (
            await uow.repos.messages.count_of_family(
                (await uow.repos.families.get_by_number("300000000")).id,
                direction=None,
                deleted=False,
            )
            == 0
        )
    monkeypatch.undo()

    publication = await announcements.publish_announcement(
        db, body="Fête", staff_id=9, staff_name="Claire", now=NOW
    )
    assert (publication.families, publication.accounts) == (500, 500)
    async with db.unit_of_work() as uow:
        rows = await uow.repos.outbox.of_template(announcements.TEMPLATE_ANNOUNCEMENT)
        audit = await uow.repos.audit.entries(action=announcements.ACTION_ANNOUNCE)
    assert sorted(row.chat_id for row in rows) == list(range(10_000, 10_500))
    assert len({row.params["message_id"] for row in rows}) == 500 and {
        row.status for row in rows
    } == {"pending"}
    assert [(e.outcome, e.details) for e in audit] == [("ok", {"families": 500, "accounts": 500})]


async def test_the_report_waits_for_every_message_then_counts_them(
    any_demo_database: Database,
) -> None:
    db = any_demo_database
    for user_id, number in ((101, DUPONT), (102, DUPONT), (201, MARTIN)):
        await _link(db, number, user_id)
    await announcements.publish_announcement(
        db,
        body="Fête",
        staff_id=9,
        staff_name="Claire",
        now=NOW,
        report_chat_id=9,
        report_language="en",
    )
    async with db.unit_of_work() as uow:
        rows = await uow.repos.outbox.of_template(announcements.TEMPLATE_ANNOUNCEMENT)
        (report,) = await uow.repos.outbox.of_template(announcements.TEMPLATE_REPORT)
        await uow.repos.outbox.finish([rows[0].id], "sent", NOW)
        await uow.repos.outbox.finish([rows[1].id], "unreachable", NOW)
        later = NOW + dt.timedelta(minutes=2)
        await uow.repos.outbox.retry_later(rows[2].id, later, "NetworkError")
        await uow.commit()
    assert (report.audience, report.chat_id, report.language) == (
        "account",
        9,
        "en",
    )  # the staff member's private chat

    assert (
        await announcements.announcement_report(db, report.params, now=NOW) is None
    )  # one still waits…
    async with db.unit_of_work() as uow:
        polls = await uow.repos.outbox.of_template(announcements.TEMPLATE_REPORT, poll=1)
        assert [(row.chat_id, row.available_at) for row in polls] == [
            (9, later)
        ]  # …so the report looks again then
        await uow.repos.outbox.finish([rows[2].id], "sent", later)
        await uow.commit()
    assert await announcements.announcement_report(
        db, polls[0].params, now=later
    ) == announcements.DeliveryReport(2, 1, 0)
    async with db.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action=announcements.ACTION_ANNOUNCE)
    assert [(e.outcome, e.details) for e in audit][-1] == (
        "sent",
        {"reached": 2, "unreachable": 1, "failed": 0},
    )


async def test_an_account_that_blocked_the_bot_is_noted_then_forgotten(
    any_demo_database: Database,
) -> None:
    db = any_demo_database
    await _link(db, DUPONT, 101)
    later = NOW + dt.timedelta(days=1)
    async with db.unit_of_work() as uow:
        await record_reachability(uow, reached=[], unreachable=[101], now=NOW)
        await record_reachability(uow, reached=[], unreachable=[101], now=later)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert (
            await uow.repos.telegram.get_user(101)
        ).unreachable_since == NOW  # the first date is kept
        assert [
            r.language for r in await family_recipients(uow, await _family_id(uow, DUPONT))
        ] == [None]
        await record_reachability(uow, reached=[101], unreachable=[], now=later)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert (await uow.repos.telegram.get_user(101)).unreachable_since is None


async def test_cards_are_queued_with_their_request_and_remember_where_they_are_shown(
    any_demo_database: Database,
) -> None:
    db = any_demo_database
    async with db.unit_of_work() as uow:
        family_id = await _family_id(uow, DUPONT)
        ids = []
        for index in range(3):
            request = await submit_request(
                uow,
                family_id=family_id,
                kind=RequestKind.FISCAL,
                payload={"regime": "msa"},
                created_by=101,
                now=NOW + dt.timedelta(minutes=index),
            )
            ids.append(request.id)
        await uow.commit()
    async with db.unit_of_work() as uow:
        queued = await uow.repos.outbox.of_template(CARD_TEMPLATE)
        await request_cards.record_card_message(uow, [ids[0]], 41)
        await request_cards.record_digest_message(uow, [ids[1]], 42)
        await uow.commit()
    assert [(row.params["request_id"], row.family_id) for row in queued] == [
        (i, family_id) for i in ids
    ]
    decision = await request_cards.decide_from_card(
        db, ids[2], accept=False, staff_id=9, staff_name="Claire", now=NOW, reason="Non"
    )
    assert decision.card.status == RequestStatus.REFUSED and decision.card.refusal_reason == "Non"
    assert [c.request_id for c in await request_cards.pending_cards_of(db, ids)] == ids[:2]
    pending = await request_cards.list_pending(db, staff_id=9, now=NOW)
    assert [
        (c.request_id, c.admin_message_id, c.group_card_id, c.family_name) for c in pending
    ] == [
        (ids[0], 41, 41, "JEAN DUPONT"),
        (ids[1], -42, None, "JEAN DUPONT"),
    ]


async def test_opening_a_card_again_in_the_group_posts_it_and_retires_the_older_copy(
    any_demo_database: Database,
) -> None:
    db = any_demo_database
    async with db.unit_of_work() as uow:
        request = await submit_request(
            uow,
            family_id=await _family_id(uow, DUPONT),
            kind=RequestKind.FISCAL,
            payload={"regime": "msa"},
            created_by=101,
            now=NOW,
        )
        await request_cards.record_card_message(uow, [request.id], 41)
        await uow.commit()
    privately = await request_cards.open_card(
        db, request.id, staff_id=9, now=NOW, in_admin_group=False
    )
    in_group = await request_cards.open_card(
        db, request.id, staff_id=9, now=NOW, in_admin_group=True
    )
    assert privately is not None and in_group is not None and in_group.pending
    assert await request_cards.open_card(db, 9999, staff_id=9, now=NOW, in_admin_group=True) is None
    async with db.unit_of_work() as uow:
        reopened = await uow.repos.outbox.of_template(request_cards.REOPENED_TEMPLATE)
        retired = await uow.repos.outbox.of_template(request_cards.RETIRED_TEMPLATE)
        audit = await uow.repos.audit.entries(action=request_cards.ACTION_OPEN)
    assert [row.params for row in reopened] == [
        {"request_id": request.id}
    ]  # posted by the outbox in the group only
    assert [row.params for row in retired] == [{"request_id": request.id, "message_id": 41}]
    assert [e.outcome for e in audit] == ["ok", "ok", "not_found"]


async def test_windows_custody_and_a_days_history_are_audited_with_their_outcome(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    paris = ZoneInfo("Europe/Paris")
    dates = {
        "period_start": dt.date(2026, 12, 19),
        "period_end": dt.date(2027, 1, 3),
        "opens_on": TODAY,
    }
    good = await booking_windows.set_booking_window(
        db, structure, paris, **dates, closes_on=dt.date(2026, 12, 12), staff_id=9, now=NOW
    )
    bad = await booking_windows.set_booking_window(
        db, structure, paris, **dates, closes_on=dt.date(2026, 12, 20), staff_id=9, now=NOW
    )
    assert (good.outcome, bad.outcome) == (
        booking_windows.WindowOutcome.SET,
        booking_windows.WindowOutcome.BAD_DATES,
    )
    windows = await booking_windows.upcoming_windows(db, TODAY, staff_id=9, now=NOW)
    assert [(w.period_starts_on, code) for w, code in windows] == [
        (dt.date(2026, 12, 19), "alsh_vacances")
    ]

    lucas = await custody.set_custody(
        db, DUPONT, "lucas", Custody.ODD_WEEKS, None, staff_id=9, now=NOW
    )
    nobody = await custody.set_custody(
        db, DUPONT, "NOBODY", Custody.ODD_WEEKS, None, staff_id=9, now=NOW
    )
    assert (lucas.outcome, lucas.child_name, nobody.outcome) == (
        custody.CustodyOutcome.SET,
        "LUCAS",
        custody.CustodyOutcome.UNKNOWN_CHILD,
    )

    assert (
        await staff_day.staff_day_history(db, structure, DUPONT, TUESDAY, staff_id=9, now=NOW) == []
    )
    assert (
        await staff_day.staff_day_history(db, structure, "999", TUESDAY, staff_id=9, now=NOW)
        is None
    )
    async with db.unit_of_work() as uow:
        audit = {
            action: [e.outcome for e in await uow.repos.audit.entries(action=action)]
            for action in (
                booking_windows.ACTION_SET_WINDOW,
                booking_windows.ACTION_LIST_WINDOWS,
                custody.ACTION_SET_CUSTODY,
                staff_day.ACTION_DAY_HISTORY,
            )
        }
    assert audit == {
        "staff.booking_window": ["ok", "refused"],
        "staff.booking_windows": ["ok"],
        "staff.custody": ["ok", "refused"],
        "staff.day_history": ["ok", "refused"],
    }
