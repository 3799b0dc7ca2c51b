"""The family's right of access: the export holds every table with family data, and only its own."""

from __future__ import annotations

import datetime as dt
import json

from bot.domain.model import HealthItemKind, MessageDirection, RequestKind
from bot.services import linking
from bot.services.data_export import ACTION_EXPORT, export_family_data
from bot.services.requests import decide_request, submit_request
from storage.db import Database
from storage.models import AuthorizedPerson, Base, HealthItem, Message, Vaccination

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def family_tables() -> set[str]:
    """Every table of the schema with a family_id or child_id column."""
    return {
        table.name
        for table in Base.metadata.sorted_tables
        if {"family_id", "child_id"} & set(table.c.keys())
    }


async def _fill(db: Database) -> tuple[int, int]:
    async with db.unit_of_work() as uow:
        dupont = await uow.repos.families.get_by_number("1001001818331")
        martin = await uow.repos.families.get_by_number("1001001818332")
        lucas = next(
            c for c in await uow.repos.families.children(dupont.id) if c.first_name == "LUCAS"
        )
        chloe = (await uow.repos.families.children(martin.id))[0]
        uow.repos.children.add(
            Vaccination(child_id=lucas.id, name="Pentacoq", given_on=dt.date(2017, 6, 12))
        )
        uow.repos.children.add(
            HealthItem(child_id=lucas.id, kind=HealthItemKind.ALLERGY, description="Arachide")
        )
        uow.repos.children.add(
            AuthorizedPerson(child_id=lucas.id, last_name="VOISNE", relation="Voisine")
        )
        uow.repos.children.add(
            HealthItem(child_id=chloe.id, kind=HealthItemKind.PAI, description="Secret de Chloé")
        )
        uow.repos.messages.add(
            Message(family_id=dupont.id, direction=MessageDirection.FROM_FAMILY, body="Bonjour")
        )
        uow.repos.messages.add(
            Message(
                family_id=martin.id, direction=MessageDirection.FROM_FAMILY, body="Message Martin"
            )
        )
        await uow.commit()
        ids = dupont.id, martin.id
    async with db.unit_of_work() as uow:
        request = await submit_request(
            uow,
            family_id=ids[0],
            kind=RequestKind.FISCAL,
            payload={"form": "fiscal", "values": {"regime": "msa"}},
            created_by=101,
            now=NOW,
        )
        await decide_request(
            uow, request.id, accept=False, staff_id=901, staff_name="Claire", now=NOW, reason="Non"
        )
        await uow.commit()
    invite = await linking.issue_invite(db, "1001001818331", now=NOW, ttl_days=30)
    await linking.redeem_invite(db, invite.code, 101, NOW)
    return ids


async def test_the_export_covers_every_table_holding_family_data(
    any_demo_database: Database,
) -> None:
    _dupont_id, _martin_id = await _fill(any_demo_database)
    export = await export_family_data(any_demo_database, 101, now=NOW)
    assert export is not None
    assert family_tables() <= set(export.tables), family_tables() - set(export.tables)
    tables = export.tables
    assert [row["number"] for row in tables["families"]] == ["1001001818331"]
    assert sorted(row["first_name"] for row in tables["children"]) == ["EMMA", "LUCAS"]
    assert [row["name"] for row in tables["vaccinations"]] == ["Pentacoq"]
    assert [row["description"] for row in tables["health_items"]] == ["Arachide"]
    assert [row["body"] for row in tables["messages"]] == ["Bonjour"]
    assert {row["number"] for row in tables["invoices"]} == {"AL-12", "AL-36"}
    assert [row["id"] for row in tables["telegram_users"]] == [101]
    assert all("code_hash" not in row for row in tables["invites"]) and len(tables["invites"]) == 1
    [request] = tables["requests"]
    assert request["refusal_reason"] == "Non" and request["decided_by_name"] == "Claire"
    assert "decided_by" not in request  # the staff member's Telegram id is not the family's
    json.dumps(export.as_json())  # plain JSON all through
    dumped = json.dumps(export.as_json(), ensure_ascii=False)
    assert (
        "MARTIN" not in dumped and "Secret de Chloé" not in dumped and "1001001818332" not in dumped
    )


async def test_the_export_is_audited_without_its_content(any_demo_database: Database) -> None:
    dupont_id, _ = await _fill(any_demo_database)
    await export_family_data(any_demo_database, 101, now=NOW)
    async with any_demo_database.unit_of_work() as uow:
        entries = await uow.repos.audit.entries(action=ACTION_EXPORT)
    assert [(e.actor_telegram_id, e.family_id, e.details) for e in entries] == [
        (101, dupont_id, {})
    ]


async def test_an_account_that_moved_to_another_family_brings_none_of_it_into_the_first_ones_export(
    any_demo_database: Database,
) -> None:
    from sqlalchemy import insert

    from storage.models import BotState, ReminderLog, ReminderPreference

    await _fill(any_demo_database)  # account 101 linked to DUPONT
    later = NOW + dt.timedelta(days=10)
    async with any_demo_database.unit_of_work() as uow:
        uow.session.add(
            ReminderLog(
                kind="booking",
                recipient=101,
                subject="dupont-time",
                created_at=NOW + dt.timedelta(days=1),
            )
        )
        await uow.commit()
    await linking.unlink(any_demo_database, 101, later)
    invite = await linking.issue_invite(any_demo_database, "1001001818332", now=later, ttl_days=30)
    await linking.redeem_invite(
        any_demo_database, invite.code, 101, later
    )  # the same account, now MARTIN's
    other = await linking.issue_invite(any_demo_database, "1001001818331", now=later, ttl_days=30)
    await linking.redeem_invite(any_demo_database, other.code, 102, later)  # DUPONT's other parent
    async with any_demo_database.unit_of_work() as uow:
        uow.session.add(
            ReminderLog(
                kind="booking",
                recipient=101,
                subject="martin-time",
                created_at=later + dt.timedelta(days=1),
            )
        )
        uow.session.add(ReminderPreference(telegram_user_id=101, kind="invoice", enabled=False))
        await uow.session.execute(
            insert(BotState).values(kind="user_data", key="101", data={"draft": "Brouillon MARTIN"})
        )
        await uow.commit()

    export = await export_family_data(any_demo_database, 102, now=later)
    assert export is not None
    dumped = json.dumps(export.as_json(), ensure_ascii=False)
    assert "martin-time" not in dumped and "Brouillon MARTIN" not in dumped
    assert "dupont-time" in dumped  # what the account did while it was DUPONT's stays DUPONT's
    assert all(
        row["telegram_user_id"] != 101 for row in export.tables.get("reminder_preferences", [])
    )
    assert "1001001818332" not in dumped
