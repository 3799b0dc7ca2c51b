"""What a parent reads, rendered from the records: values in the reader's language and format."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot import callbacks
from bot.domain import forms
from bot.domain.model import AbsenceReason, RequestKind, RequestStatus
from bot.i18n import elide, use_language
from bot.services import (
    booking_requests,  # noqa: F401 - registers the request types
    bookings,
)
from bot.services.bookings import BookingOutcome, DayAction
from bot.services.children import ChildrenPage
from bot.services.data_export import export_family_data
from bot.services.family_requests import AccountBlock, request_list
from bot.services.request_history import HistoryItem
from bot.services.requests import FieldChange, RequestDescription
from bot.structure import Structure
from bot.telegram_text import utf16_len
from conversations.account import block_keyboard, render_block
from conversations.children import render_children
from conversations.data_rights import render_text
from conversations.requests_list import render_requests, request_title, requests_keyboard
from storage.db import Database
from storage.models import Child, Request
from tests.support.money import link_account

PARIS = ZoneInfo("Europe/Paris")
DUPONT = "1001001818331"
TUESDAY = dt.date(2026, 11, 24)


@pytest.fixture
async def demo_database(demo_database: Database) -> Database:
    await link_account(demo_database, DUPONT, 101)
    return demo_database


async def _lucas_and_cantine(db: Database) -> tuple[int, int]:
    async with db.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        child = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
        return child.id, (await uow.repos.structure.service_by_code("cantine")).id


@pytest.mark.parametrize(
    ("language", "day", "reason"),
    [
        ("fr", "mardi 24 novembre 2026", "convenance personnelle"),
        ("en", "Tuesday, 24 November 2026", "personal convenience"),
    ],
)
async def test_the_list_of_requests_reads_the_day_and_the_reason_in_the_parents_language(
    demo_database: Database, structure: Structure, language: str, day: str, reason: str
) -> None:
    child_id, cantine = await _lucas_and_cantine(demo_database)
    booked_at = dt.datetime(2026, 11, 16, 9, 0, tzinfo=PARIS)
    await bookings.act_on_day(
        demo_database,
        101,
        DayAction.BOOK,
        child_id,
        cantine,
        TUESDAY,
        structure=structure,
        tz=PARIS,
        now=booked_at,
    )
    morning = dt.datetime(2026, 11, 24, 7, 30, tzinfo=PARIS)
    done = await bookings.act_on_day(
        demo_database,
        101,
        DayAction.ABSENCE,
        child_id,
        cantine,
        TUESDAY,
        structure=structure,
        tz=PARIS,
        now=morning,
        reason=AbsenceReason.PERSONAL,
        accept_late=True,
    )
    assert done.result.outcome == BookingOutcome.ABSENCE_PENDING
    items = await request_list(demo_database, 101, since=morning - dt.timedelta(days=30))
    with use_language(language):
        text = (
            render_requests(items, "all", TUESDAY, PARIS)[0]
            .replace("\u202f", " ")
            .replace("\xa0", " ")
        )
    assert day in text and reason in text
    assert "2026-11-24" not in text and "personal" not in text.replace("personal convenience", "")


def _pending(count: int, fields: int = 12) -> list[HistoryItem]:
    made = dt.datetime(2026, 11, 20, 9, 0, tzinfo=PARIS)
    return [
        HistoryItem(
            Request(
                id=n,
                kind=RequestKind.RESPONSABLE,
                status=RequestStatus.PENDING,
                created_at=made,
                payload={},
            ),
            RequestDescription(
                title="Change of the responsable's details",
                changes=tuple(
                    FieldChange(
                        f"Field {f}",
                        f"nouvelle valeur n° {n} " + "é" * 30,
                        "ancienne valeur " + "à" * 20,
                    )
                    for f in range(fields)
                ),
            ),
        )
        for n in range(1, count + 1)
    ]


def test_a_block_with_many_pending_changes_opens_and_points_to_the_list_for_the_rest() -> None:
    block = AccountBlock(
        form=forms.RESPONSABLE,
        current={f.key: "" for f in forms.RESPONSABLE.fields},
        pending=_pending(8),
        recorded=True,
    )
    with use_language("fr"):
        text = render_block("r", block, PARIS)
        labels = [b.text for row in block_keyboard("r", block).inline_keyboard for b in row]
    assert utf16_len(text) <= 4096
    shown = text.count("nouvelle valeur n° ") and len(
        {n for n in range(1, 9) if f"nouvelle valeur n° {n} " in text}
    )
    assert 0 < shown < 8 and f"et {8 - shown} de plus" in text
    assert "📋 Liste des demandes" in labels


def test_every_request_of_a_long_list_can_be_reached_page_after_page() -> None:
    items = _pending(30, fields=4)
    seen: set[int] = set()
    start: int | None = 0
    pages = 0
    with use_language("fr"):
        while start is not None:
            text, following = render_requests(items, "all", TUESDAY, PARIS, start)
            assert utf16_len(text) <= 4096
            keyboard = requests_keyboard("all", 1, start, following)
            datas = [b.callback_data for row in keyboard.inline_keyboard for b in row]
            if following is not None:
                assert callbacks.build(callbacks.REQUEST_PAGE, "all", 1, following) in datas
            seen |= {n for n in range(1, 31) if f"nouvelle valeur n° {n} " in text}
            start, pages = following, pages + 1
    assert seen == set(range(1, 31)) and pages > 1


async def test_the_readable_export_names_every_value_for_a_person(demo_database: Database) -> None:
    export = await export_family_data(
        demo_database, 101, now=dt.datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
    )
    assert export is not None
    with use_language("fr"):
        text = render_text(export, PARIS)
    assert "Porte des lunettes\u00a0: non" in text and "Prénom\u00a0: LUCAS" in text
    for column in (
        "glasses",
        "actor_kind",
        "family_id",
        "first_name",
        "False",
        "True",
        ": staff",
        "_id",
    ):
        assert column not in text, column


@pytest.mark.parametrize(
    ("sex", "expected"),
    [("F", "Née le 02/04/2019"), ("M", "Né le 02/04/2019"), (None, "Né(e) le 02/04/2019")],
)
def test_the_children_page_agrees_with_the_childs_sex(sex: str | None, expected: str) -> None:
    child = Child(
        id=1, first_name="EMMA", last_name="DUPONT", birth_date=dt.date(2019, 4, 2), sex=sex
    )
    with use_language("fr"):
        text = render_children(ChildrenPage(children=(child,), pending_additions=[]), PARIS)
    assert expected in text and ("(e)" in expected or "(e)" not in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<b>Planning de EMMA</b> — décembre", "<b>Planning d’EMMA</b> — décembre"),
        ("Données sanitaires de ÉLODIE", "Données sanitaires d’ÉLODIE"),
        ("Inscription de LUCAS à Cantine", "Inscription de LUCAS à Cantine"),
        ("Modification de <b>OSCAR</b>", "Modification d’<b>OSCAR</b>"),
    ],
)
def test_french_elides_de_before_a_vowel(text: str, expected: str) -> None:
    with use_language("fr"):
        assert elide(text) == expected
    with use_language("en"):
        assert elide(text) == text


def test_a_request_title_names_the_child_with_elision() -> None:
    [item] = _pending(1, fields=1)
    item = HistoryItem(
        item.request,
        RequestDescription(title="Change of {child}'s details", title_args={"child": "EMMA"}),
    )
    with use_language("fr"):
        assert "de EMMA" not in request_title(item)
