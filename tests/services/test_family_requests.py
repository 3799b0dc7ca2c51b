"""Every data-change request of Mon compte and Mes enfants: a parent asks, staff accept or refuse
(through the generic `decide_request`), and the record changes — or stays as it was. Each
request sent is told to staff by an outbox row of its own transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from bot.domain.model import GuardianRole, HealthItemKind, Regime, RequestKind, RequestStatus
from bot.services import family_requests
from bot.services.children import ACTION_OWNERSHIP_REFUSED, ChildNotInFamily, PersonNotListed
from bot.services.family_requests import Attachment, SubmitOutcome
from bot.services.requests import decide_request, describe_request
from storage.db import Database, UnitOfWork
from storage.models import AuthorizedPerson, Child, TelegramLink, TelegramUser

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
DUPONT, MARTIN = "1001001818331", "1001001818332"
JEAN, SOPHIE = 101, 202  # linked to DUPONT and MARTIN
CARD = "staff.request_card"


@pytest.fixture(autouse=True)
async def linked(any_demo_database: Database) -> None:
    """Jean uses the bot for the Dupont family, Sophie for the Martin family."""
    async with any_demo_database.unit_of_work() as uow:
        for user_id, number in ((JEAN, DUPONT), (SOPHIE, MARTIN)):
            uow.session.add(TelegramUser(id=user_id))
            await uow.session.flush()
            uow.repos.telegram.add_link(
                TelegramLink(
                    family_id=await family_id(uow, number),
                    telegram_user_id=user_id,
                    linked_at=NOW,
                    linked_by="invite",
                )
            )
        await uow.commit()


def account_of(number: str) -> int:
    return JEAN if number == DUPONT else SOPHIE


async def cards(db: Database, **params: Any) -> list[int]:
    """The request ids of the staff cards queued in the outbox."""
    async with db.unit_of_work() as uow:
        return [
            row.params["request_id"] for row in await uow.repos.outbox.of_template(CARD, **params)
        ]


async def family_id(uow: UnitOfWork, number: str = DUPONT) -> int:
    family = await uow.repos.families.get_by_number(number)
    assert family is not None
    return family.id


async def child(uow: UnitOfWork, first_name: str, number: str = DUPONT) -> Child:
    children = await uow.repos.families.children(await family_id(uow, number))
    return next(c for c in children if c.first_name == first_name)


async def guardian_value(
    uow: UnitOfWork, role: GuardianRole, key: str, number: str = DUPONT
) -> Any:
    family = await uow.repos.families.get(await family_id(uow, number))
    guardian = family.guardian(role) if family else None
    return getattr(guardian, key) if guardian else None


async def family_value(uow: UnitOfWork, key: str) -> Any:
    family = await uow.repos.families.get(await family_id(uow))
    return getattr(family, key)


async def child_names(uow: UnitOfWork) -> list[str]:
    return sorted(c.first_name for c in await uow.repos.families.children(await family_id(uow)))


async def persons(uow: UnitOfWork) -> list[str]:
    return [
        p.last_name
        for p in await uow.repos.children.authorized_persons((await child(uow, "LUCAS")).id)
    ]


async def vaccines(uow: UnitOfWork) -> list[tuple[str, dt.date | None, dt.date | None]]:
    return [
        (v.name, v.given_on, v.booster_on)
        for v in await uow.repos.children.vaccinations((await child(uow, "LUCAS")).id)
    ]


async def health_items(uow: UnitOfWork) -> list[tuple[HealthItemKind, str]]:
    return [
        (h.kind, h.description)
        for h in await uow.repos.children.health_items((await child(uow, "LUCAS")).id)
    ]


async def enrolled(uow: UnitOfWork) -> list[str]:
    emma = await child(uow, "EMMA")
    return sorted(
        e.service.code for e in await uow.repos.children.enrolments(await family_id(uow), emma.id)
    )


@dataclass(frozen=True)
class Case:
    """One kind of request: the form and values asked, and what to read on the record."""

    form: str
    values: dict[str, str]
    read: Callable[[UnitOfWork], Awaitable[Any]]
    after: Any
    child: str | None = None
    number: str = DUPONT
    service: str | None = None
    attachment: bool = False


CASES = {
    "responsable": Case(
        "responsable",
        {"phone_mobile": "07 81 22 33 44", "email": "jean@example.org"},
        lambda uow: guardian_value(uow, GuardianRole.RESPONSABLE, "phone_mobile"),
        "07 81 22 33 44",
    ),
    "conjoint": Case(
        "conjoint",
        {"phone_work": "05 61 00 00 00"},
        lambda uow: guardian_value(uow, GuardianRole.CONJOINT, "phone_work"),
        "05 61 00 00 00",
    ),
    "new conjoint": Case(
        "conjoint",
        {"last_name": "MARTIN", "first_name": "PAUL"},
        lambda uow: guardian_value(uow, GuardianRole.CONJOINT, "first_name", MARTIN),
        "PAUL",
        number=MARTIN,
    ),
    "fiscal": Case(
        "fiscal", {"regime": "msa"}, lambda uow: family_value(uow, "regime"), Regime.MSA
    ),
    "caf": Case(
        "caf",
        {"quotient_familial": "912.50", "caf_number": "7654321"},
        lambda uow: family_value(uow, "quotient_familial"),
        Decimal("912.50"),
        attachment=True,
    ),
    "bank": Case(
        "bank",
        {"iban": "FR7630006000011234567890189", "bic": "BNPAFRPP", "direct_debit": "yes"},
        lambda uow: family_value(uow, "iban"),
        "FR7630006000011234567890189",
    ),
    "add child": Case(
        "add_child",
        {"last_name": "DUPONT", "first_name": "LÉA", "birth_date": "2023-04-02", "sex": "F"},
        child_names,
        ["EMMA", "LUCAS", "LÉA"],
    ),
    "child data": Case(
        "child_data",
        {"class_name": "CM1"},
        lambda uow: child(uow, "LUCAS"),
        "CM1",
        child="LUCAS",
    ),
    "authorization": Case(
        "authorization",
        {"last_name": "VOISNE", "relation": "Voisine", "mobile": "06 12 34 56 78"},
        persons,
        ["VOISNE"],
        child="LUCAS",
    ),
    "vaccination": Case(
        "vaccination",
        {"name": "Pentacoq", "given_on": "2017-06-12", "booster_on": "2027-07-01"},
        vaccines,
        [("Pentacoq", dt.date(2017, 6, 12), dt.date(2027, 7, 1))],
        child="LUCAS",
    ),
    "allergy": Case(
        "allergy",
        {"description": "Arachide"},
        health_items,
        [(HealthItemKind.ALLERGY, "Arachide")],
        child="LUCAS",
    ),
    "pai": Case(
        "pai",
        {"description": "Asthme"},
        health_items,
        [(HealthItemKind.PAI, "Asthme")],
        child="LUCAS",
    ),
    "glasses": Case(
        "glasses", {"glasses": "yes"}, lambda uow: child(uow, "LUCAS"), True, child="LUCAS"
    ),
    "doctor": Case(
        "doctor",
        {"doctor_name": "Dr Martin", "doctor_phone": "05 61 11 22 33"},
        lambda uow: child(uow, "LUCAS"),
        "Dr Martin",
        child="LUCAS",
    ),
    "enrolment": Case(
        "enrolment",
        {"starts_on": "2026-12-01"},
        enrolled,
        ["alsh_mercredi", "cantine", "garderie_matin", "garderie_soir", "gouter"],
        child="EMMA",
        service="garderie_matin",
    ),
}
_CHILD_ATTRIBUTE = {"child data": "class_name", "glasses": "glasses", "doctor": "doctor_name"}


async def observe(db: Database, name: str) -> Any:
    case = CASES[name]
    async with db.unit_of_work() as uow:
        value = await case.read(uow)
        return getattr(value, _CHILD_ATTRIBUTE[name]) if name in _CHILD_ATTRIBUTE else value


async def ask(db: Database, case: Case) -> int:
    async with db.unit_of_work() as uow:
        child_id = (await child(uow, case.child, case.number)).id if case.child else None
        service = await uow.repos.structure.service_by_code(case.service) if case.service else None
    result = await family_requests.submit_form(
        db,
        account_of(case.number),
        form_code=case.form,
        values=case.values,
        now=NOW,
        today=TODAY,
        child_id=child_id,
        service_id=service.id if service else None,
        attachment=Attachment("proof-file", "document") if case.attachment else None,
    )
    assert result.outcome == SubmitOutcome.SUBMITTED, result
    assert result.request is not None
    return result.request.id


async def decide(db: Database, request_id: int, accept: bool) -> None:
    async with db.unit_of_work() as uow:
        result = await decide_request(
            uow,
            request_id,
            accept=accept,
            staff_id=9,
            staff_name="Claire",
            now=NOW,
            reason=None if accept else "Justificatif illisible",
        )
        await uow.commit()
    assert result.request is not None and result.request.status == (
        RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED
    )


@pytest.mark.parametrize("accept", [True, False], ids=["accepted", "refused"])
@pytest.mark.parametrize("name", list(CASES))
async def test_a_request_changes_the_record_only_when_accepted(
    any_demo_database: Database, name: str, accept: bool
) -> None:
    before = await observe(any_demo_database, name)
    assert before != CASES[name].after
    request_id = await ask(any_demo_database, CASES[name])
    assert await cards(any_demo_database) == [
        request_id
    ]  # staff are told, in the request's transaction
    assert await observe(any_demo_database, name) == before  # nothing changes while it waits
    await decide(any_demo_database, request_id, accept)
    assert await observe(any_demo_database, name) == (CASES[name].after if accept else before)


@pytest.mark.parametrize("accept", [True, False], ids=["accepted", "refused"])
async def test_removal_of_an_authorised_person(any_demo_database: Database, accept: bool) -> None:
    async with any_demo_database.unit_of_work() as uow:
        lucas = await child(uow, "LUCAS")
        person = AuthorizedPerson(
            child_id=lucas.id, last_name="PLRI", relation="Grand-père", phone="06 06 06 06 06"
        )
        uow.repos.children.add(person)
        await uow.commit()
        lucas_id, person_id = lucas.id, person.id
    first = await family_requests.request_removal(
        any_demo_database, JEAN, child_id=lucas_id, person_id=person_id, now=NOW
    )
    again = await family_requests.request_removal(
        any_demo_database, JEAN, child_id=lucas_id, person_id=person_id, now=NOW
    )
    assert (first.outcome, again.outcome) == (
        SubmitOutcome.SUBMITTED,
        SubmitOutcome.ALREADY_PENDING,
    )
    [removal] = again.page.removals
    assert again.page.removable == [] and [p.id for p in again.page.sheet.authorized_persons] == [
        person_id
    ]
    assert await cards(any_demo_database) == [removal.request.id]  # one card for the two taps
    await decide(any_demo_database, removal.request.id, accept)
    async with any_demo_database.unit_of_work() as uow:
        assert await persons(uow) == ([] if accept else ["PLRI"])


async def test_the_card_shows_the_current_value_beside_the_requested_one(
    any_demo_database: Database,
) -> None:
    request_id = await ask(any_demo_database, CASES["bank"])
    async with any_demo_database.unit_of_work() as uow:
        request = await uow.repos.requests.get(request_id)
        description = await describe_request(uow, request)
    assert description.title == "Change of the bank details"
    by_label = {change.label: change for change in description.changes}
    assert (
        by_label["IBAN"].requested == "FR76 •••• •••• 0189"
    )  # bank data never in full, even to staff
    assert by_label["IBAN"].current == "—"
    assert (
        by_label["Direct debit"].current == "non" and by_label["Direct debit"].requested == "oui"
    )  # values read in the staff's language


async def test_a_decided_request_keeps_the_values_it_replaced(any_demo_database: Database) -> None:
    request_id = await ask(any_demo_database, CASES["responsable"])
    await decide(any_demo_database, request_id, True)
    async with any_demo_database.unit_of_work() as uow:
        description = await describe_request(uow, await uow.repos.requests.get(request_id))
    mobile = next(c for c in description.changes if c.label == "Mobile")
    assert (mobile.current, mobile.requested) == ("06 12 34 56 78", "07 81 22 33 44")


async def test_a_new_quotient_familial_needs_a_proof(any_demo_database: Database) -> None:
    result = await family_requests.submit_form(
        any_demo_database,
        JEAN,
        form_code="caf",
        values={"quotient_familial": "912.50"},
        now=NOW,
        today=TODAY,
    )
    assert result.outcome == SubmitOutcome.PROOF_NEEDED


@pytest.mark.parametrize(
    ("form", "values", "outcome"),
    [
        ("responsable", {"phone_mobile": "06 12 34 56 78"}, SubmitOutcome.NOTHING_CHANGED),
        ("responsable", {"last_name": ""}, SubmitOutcome.MISSING_FIELDS),
        ("responsable", {"email": "pas-un-email"}, SubmitOutcome.INVALID),
        ("add_child", {"first_name": "LÉA"}, SubmitOutcome.MISSING_FIELDS),
        ("unknown", {"x": "y"}, SubmitOutcome.INVALID),
    ],
)
async def test_incomplete_or_wrong_requests_are_not_recorded(
    any_demo_database: Database, form: str, values: dict[str, str], outcome: SubmitOutcome
) -> None:
    result = await family_requests.submit_form(
        any_demo_database, JEAN, form_code=form, values=values, now=NOW, today=TODAY
    )
    assert result.outcome == outcome
    async with any_demo_database.unit_of_work() as uow:
        assert await uow.repos.requests.pending() == []
    assert await cards(any_demo_database) == []


async def test_a_child_of_another_family_is_refused_and_audited(
    any_demo_database: Database,
) -> None:
    async with any_demo_database.unit_of_work() as uow:
        chloe = await child(uow, "CHLOÉ", MARTIN)
    with pytest.raises(ChildNotInFamily):
        await family_requests.submit_form(
            any_demo_database,
            JEAN,
            form_code="allergy",
            values={"description": "Arachide"},
            now=NOW,
            today=TODAY,
            child_id=chloe.id,
        )
    async with any_demo_database.unit_of_work() as uow:
        refused = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
        assert [(e.actor_telegram_id, e.target) for e in refused] == [(JEAN, f"child:{chloe.id}")]
        assert await uow.repos.requests.pending() == []
    assert await cards(any_demo_database) == []


@pytest.mark.parametrize("whose", ["another child's", "unknown"])
async def test_removing_a_person_not_on_the_childs_list_is_refused_and_audited(
    any_demo_database: Database, whose: str
) -> None:
    async with any_demo_database.unit_of_work() as uow:
        chloe, lucas = await child(uow, "CHLOÉ", MARTIN), await child(uow, "LUCAS")
        person = AuthorizedPerson(child_id=chloe.id, last_name="SECRET", relation="Tante")
        uow.repos.children.add(person)
        await uow.commit()
        person_id = person.id if whose == "another child's" else person.id + 1000
    with pytest.raises(PersonNotListed):
        await family_requests.request_removal(
            any_demo_database, JEAN, child_id=lucas.id, person_id=person_id, now=NOW
        )
    async with any_demo_database.unit_of_work() as uow:
        refused = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
        assert [(e.actor_telegram_id, e.target) for e in refused] == [
            (JEAN, f"authorized_person:{person_id}")
        ]
        assert await uow.repos.requests.pending() == []


async def test_the_same_form_sent_twice_is_one_request(any_demo_database: Database) -> None:
    case = CASES["fiscal"]
    ids = set()
    for _ in range(2):
        result = await family_requests.submit_form(
            any_demo_database,
            JEAN,
            form_code=case.form,
            values=case.values,
            now=NOW,
            today=TODAY,
            idempotency_key="form-101-abcd",
        )
        ids.add(result.request.id if result.request else None)
    assert len(ids) == 1
    assert await cards(any_demo_database) == list(ids)  # one card


async def test_enrolment_in_a_service_already_asked_is_refused(any_demo_database: Database) -> None:
    await ask(any_demo_database, CASES["enrolment"])
    async with any_demo_database.unit_of_work() as uow:
        emma = await child(uow, "EMMA")
        service = await uow.repos.structure.service_by_code("garderie_matin")
    result = await family_requests.submit_form(
        any_demo_database,
        JEAN,
        form_code="enrolment",
        values={"starts_on": "2026-12-01"},
        now=NOW,
        today=TODAY,
        child_id=emma.id,
        service_id=service.id,
    )
    assert result.outcome == SubmitOutcome.ALREADY_PENDING


def test_every_kind_of_the_family_tabs_is_registered() -> None:
    from bot.services.requests import request_type

    kinds = set(RequestKind) - {RequestKind.BOOKING, RequestKind.ABSENCE}
    assert {kind for kind in kinds if request_type(kind) is not None} == kinds


@pytest.mark.parametrize(
    ("form", "values", "outcome", "field"),
    [
        (
            "authorization",
            {"last_name": "VOISNE", "relation": "Voisine"},
            SubmitOutcome.MISSING_FIELDS,
            "phone",
        ),
        (
            "vaccination",
            {"name": "DTP", "given_on": "2026-10-01", "booster_on": "2026-09-01"},
            SubmitOutcome.INVALID,
            "booster_on",
        ),
        (
            "add_child",
            {"last_name": "DUPONT", "first_name": "LÉA 🌸", "birth_date": "2023-04-02", "sex": "F"},
            SubmitOutcome.INVALID,
            "first_name",
        ),
        ("responsable", {"address": "12 rue des Lilas 🏠"}, SubmitOutcome.INVALID, "address"),
    ],
)
async def test_values_a_record_cannot_hold_are_refused(
    any_demo_database: Database,
    form: str,
    values: dict[str, str],
    outcome: SubmitOutcome,
    field: str,
) -> None:
    async with any_demo_database.unit_of_work() as uow:
        lucas = await child(uow, "LUCAS", DUPONT)
    needs_child = form in ("authorization", "vaccination")
    result = await family_requests.submit_form(
        any_demo_database,
        JEAN,
        form_code=form,
        values=values,
        now=NOW,
        today=TODAY,
        child_id=lucas.id if needs_child else None,
    )
    assert result.outcome == outcome
    assert (
        result.missing[0] if outcome == SubmitOutcome.MISSING_FIELDS else result.invalid_field
    ) == field
    async with any_demo_database.unit_of_work() as uow:
        assert await uow.repos.requests.pending() == []
