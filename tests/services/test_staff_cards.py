"""What the staff's cards say and do about day requests: money, French dates, a withdrawn request,
a certificate sent late, the summary lines, accepting a family's requests together, the audit
of a failing staff action; and the one resolver of a family typed as a number or a name."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.model import DayStatus, GuardianRole, RequestKind, RequestStatus
from bot.i18n import use_language
from bot.services import booking_requests, bookings, family_lookup, linking, request_cards
from bot.services import requests as requests_service
from bot.services.bookings import BookingOutcome, DayAction
from bot.services.requests import CARD_TEMPLATE, CARD_UPDATE_TEMPLATE, DECIDED_TEMPLATE
from bot.structure import Structure
from conversations.staff.decisions import decision_text_for_parent
from conversations.staff.render import card_keyboard, card_text, request_line
from storage.db import Database
from storage.models import Family, Guardian
from tests.support.money import link_account

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # Monday, early: Wednesday's ALSH may be asked
TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)
DUPONT, MARTIN = "1001001818331", "1001001818332"


@pytest.fixture
async def db(any_demo_database: Database) -> Database:
    """The demo families on each engine, the parents' accounts linked."""
    await link_account(any_demo_database, DUPONT, 101)
    await link_account(any_demo_database, MARTIN, 202)
    return any_demo_database


async def _child(db: Database, number: str, first_name: str) -> int:
    async with db.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        return next(
            c.id for c in await uow.repos.families.children(family.id) if c.first_name == first_name
        )


async def _act(
    db: Database,
    structure: Structure,
    first_name: str,
    code: str,
    day: dt.date,
    now: dt.datetime = NOW,
    what: DayAction = DayAction.BOOK,
    **kwargs,
):  # type: ignore[no-untyped-def]
    child_id = await _child(db, DUPONT, first_name)
    async with db.unit_of_work() as uow:
        service_id = (await uow.repos.structure.service_by_code(code)).id
    done = await bookings.act_on_day(
        db, 101, what, child_id, service_id, day, structure=structure, tz=PARIS, now=now, **kwargs
    )
    return done.result


async def _shown_in_group(db: Database, request_id: int, message_id: int) -> None:
    """The sender posted the request's card (message_id in the group): its outbox row is done."""
    async with db.unit_of_work() as uow:
        await request_cards.record_card_message(uow, [request_id], message_id)
        for row in await uow.repos.outbox.of_template(CARD_TEMPLATE, request_id=request_id):
            row.status = "sent"
        await uow.commit()


async def _rows(db: Database, template: str, **params):  # type: ignore[no-untyped-def]
    async with db.unit_of_work() as uow:
        return await uow.repos.outbox.of_template(template, **params)


async def _late_absence(db: Database, structure: Structure) -> int:
    await _act(db, structure, "LUCAS", "garderie_soir", TUESDAY)
    morning = dt.datetime(2026, 11, 24, 9, 30, tzinfo=PARIS)
    late = await _act(
        db,
        structure,
        "LUCAS",
        "garderie_soir",
        TUESDAY,
        morning,
        what=DayAction.CANCEL,
        accept_late=True,
    )
    assert late.outcome == BookingOutcome.ABSENCE_PENDING
    return late.request_id


async def test_a_late_cancellation_card_says_what_each_button_costs_in_french(
    db: Database, structure: Structure
) -> None:
    request_id = await _late_absence(db, structure)
    card = await request_cards.get_card(db, request_id)
    with use_language("fr"):
        text = card_text(card, PARIS).replace("\xa0", " ").replace("\u202f", " ")
        line = request_line(card, PARIS)
    assert "mardi 24 novembre 2026" in text and "2026-11-24" not in text
    assert "Motif de l’absence : <b>autre</b>" in text and ": other" not in text
    assert (
        "✅ Accepter : absent excusé, non facturé" in text and "❌ Refuser : absent facturé" in text
    )
    assert (
        "mar. 24/11/2026" in line and "Garderie soir" in line
    )  # a summary line says the day and service


async def test_the_refusal_notice_names_the_refusal_reason_once(
    db: Database, structure: Structure
) -> None:
    request_id = await _late_absence(db, structure)
    decided = await request_cards.decide_from_card(
        db, request_id, accept=False, staff_id=9, staff_name="Claire", now=NOW, reason="Hors délai"
    )
    with use_language("fr"):
        notice = decision_text_for_parent(decided.card).replace("\xa0", " ")
    assert notice.count("Motif du refus : Hors délai") == 1
    assert "\nMotif :" not in notice and "Motif de l’absence : <b>autre</b>" in notice
    assert "mardi 24 novembre 2026" in notice


async def test_a_withdrawn_requests_card_loses_its_buttons(
    db: Database, structure: Structure
) -> None:
    asked = await _act(db, structure, "EMMA", "alsh_mercredi", WEDNESDAY)
    assert asked.outcome == BookingOutcome.PENDING
    await _shown_in_group(db, asked.request_id, 555)
    withdrawn = await _act(db, structure, "EMMA", "alsh_mercredi", WEDNESDAY, what=DayAction.CANCEL)
    assert withdrawn.outcome == BookingOutcome.CANCELLED
    assert len(await _rows(db, CARD_UPDATE_TEMPLATE, request_id=asked.request_id)) == 1
    card = await request_cards.get_card(db, asked.request_id)
    assert card.status == RequestStatus.CANCELLED and card_keyboard(card) is None


async def test_a_certificate_sent_after_the_card_shows_on_the_card(
    db: Database, structure: Structure
) -> None:
    request_id = await _late_absence(db, structure)
    await _shown_in_group(db, request_id, 556)
    result = await bookings.attach_proof(db, 101, request_id, "file-1", "photo", NOW)
    assert result.outcome == bookings.ProofOutcome.ATTACHED
    assert len(await _rows(db, CARD_UPDATE_TEMPLATE, request_id=request_id)) == 1
    with use_language("fr"):
        assert "📎 Justificatif joint" in card_text(
            await request_cards.get_card(db, request_id), PARIS
        )


async def test_accepting_a_familys_requests_decides_each_with_its_own_outcome(
    db: Database, structure: Structure, monkeypatch: pytest.MonkeyPatch
) -> None:
    emma = await _act(db, structure, "EMMA", "alsh_mercredi", WEDNESDAY)
    lucas = await _act(db, structure, "LUCAS", "alsh_mercredi", WEDNESDAY)
    absence = await _late_absence(db, structure)
    async with db.unit_of_work() as uow:
        family_id = (await uow.repos.families.get_by_number(DUPONT)).id
        other = await requests_service.submit_request(
            uow, family_id=family_id, kind=RequestKind.FISCAL, payload={}, created_by=101, now=NOW
        )
        await uow.commit()
    offered = request_cards.bulk_acceptable(
        await request_cards.pending_cards_of(
            db, [emma.request_id, lucas.request_id, absence, other.id]
        )
    )
    assert [c.request_id for c in offered[family_id]] == [
        emma.request_id,
        lucas.request_id,
        absence,
    ]  # not the fiscal change

    real = booking_requests.AbsenceRequestType.accept

    async def broken(self, uow, request, now):  # type: ignore[no-untyped-def]
        raise RuntimeError("cannot apply")

    monkeypatch.setattr(booking_requests.AbsenceRequestType, "accept", broken)
    done = await request_cards.accept_family_requests(
        db, family_id, staff_id=9, staff_name="Claire", now=NOW
    )
    monkeypatch.setattr(booking_requests.AbsenceRequestType, "accept", real)

    assert (done.accepted, done.failed) == ((emma.request_id, lucas.request_id), (absence,))
    async with db.unit_of_work() as uow:
        statuses = {
            r: (await uow.repos.requests.get(r)).status
            for r in (emma.request_id, lucas.request_id, absence, other.id)
        }
        audit = await uow.repos.audit.entries(action=request_cards.ACTION_ACCEPT)
        batch = await uow.repos.audit.entries(action=request_cards.ACTION_ACCEPT_FAMILY)
    assert statuses == {
        emma.request_id: RequestStatus.ACCEPTED,
        lucas.request_id: RequestStatus.ACCEPTED,
        absence: RequestStatus.PENDING,
        other.id: RequestStatus.PENDING,
    }
    assert sorted((e.target, e.outcome) for e in audit) == sorted(
        [
            (f"request:{emma.request_id}", "ok"),
            (f"request:{lucas.request_id}", "ok"),
            (f"request:{absence}", "failed"),
        ]
    )
    assert [(e.outcome, e.details["failed"]) for e in batch] == [("partial", [absence])]
    assert (
        len(await _rows(db, DECIDED_TEMPLATE, request_id=emma.request_id)) == 1
    )  # the family told of each
    assert len(await _rows(db, DECIDED_TEMPLATE, request_id=absence)) == 0
    assert await _status(db, "EMMA", "alsh_mercredi", WEDNESDAY) == DayStatus.RESERVED


async def _status(db: Database, first_name: str, code: str, day: dt.date) -> DayStatus | None:
    child_id = await _child(db, DUPONT, first_name)
    async with db.unit_of_work() as uow:
        service_id = (await uow.repos.structure.service_by_code(code)).id
        entry = await uow.repos.planning.entry(child_id, service_id, day)
        return entry.status if entry else None


async def test_an_invite_for_an_unknown_family_is_audited_as_refused(db: Database) -> None:
    with pytest.raises(linking.UnknownFamily):
        await linking.issue_invite(db, "9999999999999", now=NOW, ttl_days=30, staff_id=900)
    async with db.unit_of_work() as uow:
        entries = await uow.repos.audit.entries(action=linking.ACTION_INVITE)
    assert [(e.outcome, e.actor_telegram_id, e.target) for e in entries] == [
        ("refused", 900, "family:9999999999999")
    ]


async def _second_dupont(db: Database) -> str:
    async with db.unit_of_work() as uow:
        family = Family(number="1001001818399")
        family.guardians.append(
            Guardian(role=GuardianRole.RESPONSABLE, last_name="Dupont", first_name="Émile")
        )
        uow.session.add(family)
        await uow.commit()
    return "1001001818399"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1001 0018 18331", [DUPONT]),  # a number, spaced
        ("9999999999999", []),
        ("MARTIN", [MARTIN]),
        ("martin", [MARTIN]),
        ("DUPONT", [DUPONT, "1001001818399"]),  # two families of that name: a choice
        ("jean dupont", [DUPONT]),
        ("JEANNE DUPONT", [DUPONT]),  # the conjoint names the family too
        ("emile dupont", ["1001001818399"]),  # accents do not matter
        ("DUPONT Émile", ["1001001818399"]),
        ("mart", [MARTIN]),  # the start of a name
        ("X", []),
        ("NOBODY", []),
    ],
)
async def test_a_family_is_found_by_its_number_or_a_name(
    db: Database, typed: str, expected: list[str]
) -> None:
    await _second_dupont(db)
    lookup = await family_lookup.find_family(db, typed)
    assert [m.number for m in lookup.matches] == expected
    assert (lookup.family is not None) == (len(expected) == 1)
