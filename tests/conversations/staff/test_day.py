"""Running the day from the admin group: invitations, closures, headcounts, a family's fiche."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from bot.domain.model import DayStatus, HealthItemKind, RequestKind, RequestStatus
from bot.runtime import Runtime
from bot.services.requests import submit_request
from storage.models import DayEntry, HealthItem
from tests.conversations.conftest import DUPONT, MARTIN
from tests.conversations.staff.conftest import plain
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")

TUESDAY = dt.date(2026, 11, 24)


async def _planning(runtime: Runtime, admin_group: FakeGroup) -> dict[str, int]:
    """Tuesday's bookings: Lucas and Chloé at the cantine, Emma's pending, Lucas at the evening garderie.

    Emma's request is shown to the staff as every new request is: its card is read here.
    """
    async with runtime.database.unit_of_work() as uow:
        dupont = await uow.repos.families.get_by_number(DUPONT)
        martin = await uow.repos.families.get_by_number(MARTIN)
        lucas, emma = sorted(
            await uow.repos.families.children(dupont.id), key=lambda c: c.first_name != "LUCAS"
        )
        (chloe,) = await uow.repos.families.children(martin.id)
        cantine = await uow.repos.structure.service_by_code("cantine")
        soir = await uow.repos.structure.service_by_code("garderie_soir")
        pending = await submit_request(
            uow,
            family_id=dupont.id,
            child_id=emma.id,
            kind=RequestKind.BOOKING,
            payload={"day": TUESDAY.isoformat(), "service": "cantine"},
            created_by=101,
            now=runtime.now(),
        )
        rows = {
            "lucas_cantine": DayEntry(
                child_id=lucas.id,
                service_id=cantine.id,
                family_id=dupont.id,
                day=TUESDAY,
                status=DayStatus.RESERVED,
            ),
            "emma_cantine": DayEntry(
                child_id=emma.id,
                service_id=cantine.id,
                family_id=dupont.id,
                day=TUESDAY,
                status=DayStatus.BOOKING_PROCESSING,
                request_id=pending.id,
            ),
            "lucas_soir": DayEntry(
                child_id=lucas.id,
                service_id=soir.id,
                family_id=dupont.id,
                day=TUESDAY,
                status=DayStatus.RESERVED,
            ),
            "chloe_cantine": DayEntry(
                child_id=chloe.id,
                service_id=cantine.id,
                family_id=martin.id,
                day=TUESDAY,
                status=DayStatus.REGULAR,
            ),
            "emma_soir": DayEntry(
                child_id=emma.id,
                service_id=soir.id,
                family_id=dupont.id,
                day=TUESDAY,
                status=DayStatus.ABSENT_EXCUSED,
            ),
        }
        for row in rows.values():
            uow.session.add(row)
        uow.session.add(
            HealthItem(child_id=lucas.id, kind=HealthItemKind.ALLERGY, description="arachide")
        )
        await uow.commit()
    card = await admin_group.next_message()
    assert f"Demande n° {pending.id}" in card.text and "EMMA DUPONT" in card.text
    return {name: row.id for name, row in rows.items()} | {
        "request": pending.id,
        "card": card.message_id,
    }


async def _statuses(runtime: Runtime, ids: dict[str, int]) -> dict[str, DayStatus]:
    async with runtime.database.unit_of_work() as uow:
        return {
            name: (await uow.session.get(DayEntry, ids[name])).status
            for name in ids
            if name not in ("request", "card")
        }


async def test_invite_gives_a_link_and_qr_code_that_link_a_parent(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    await claire.send_command("/invite", DUPONT, chat=admin_group)
    invitation = await admin_group.next_message()
    assert invitation.photo is not None
    assert botapi.file_content(invitation.photo[0]["file_id"]).startswith(b"\x89PNG")
    match = re.search(
        r"https://t\.me/PortailFamilleBot\?start=([A-Za-z0-9_-]+)", invitation.caption or ""
    )
    assert match and "Valable une fois" in invitation.caption
    jeanne = botapi.user(102, "Jeanne")
    await jeanne.send_command("/start", match.group(1))
    assert "maintenant relié" in (await jeanne.next_message()).text
    await claire.send_command("/invite", "999999999", chat=admin_group)
    assert "Aucune famille" in (await admin_group.next_message()).text


async def test_closing_a_day_cancels_its_bookings_without_charge_and_tells_the_families(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean, sophie = botapi.user(101, "Jean"), botapi.user(201, "Sophie")
    await link(jean)
    await link(sophie, MARTIN)
    ids = await _planning(runtime, admin_group)

    await claire.send_command(
        "/fermeture",
        "24/11/2026",
        "cantine",
        "Grève du personnel de restauration",
        chat=admin_group,
    )
    preview = await admin_group.next_message()  # what it will cancel, to confirm
    assert "3 réservations seront annulées sans frais (2 familles prévenues)" in plain(preview.text)
    assert "1 demande en attente sera annulée" in plain(preview.text)
    assert (
        await _statuses(runtime, ids) != {}
        and (await _statuses(runtime, ids))["lucas_cantine"] == DayStatus.RESERVED
    )
    await claire.tap(preview, _data_starting(preview, "sc:yes:"))
    events = [
        await admin_group.next_message(),
        await admin_group.next_message(),
    ]  # the answer, and the card's update
    (card,) = [event for event in events if event.message_id == ids["card"]]
    assert (
        "annulée" in plain(card.text).lower() and not card.button_labels
    )  # cancelled: nothing left to decide
    (report,) = [plain(event.text) for event in events if event.message_id != ids["card"]]
    assert "Fermeture enregistrée : mardi 24 novembre 2026, Restauration scolaire" in report
    assert "3 réservations annulées sans frais" in report and "2 familles prévenues" in report
    assert "1 demande en attente pour ce jour a été annulée" in report

    told_jean = await jean.next_message()
    assert (
        "Fermeture le mardi 24 novembre 2026" in told_jean.text
        and "Grève du personnel" in told_jean.text
    )
    assert (
        "LUCAS DUPONT — Restauration scolaire" in told_jean.text
        and "EMMA DUPONT — Restauration scolaire" in told_jean.text
    )
    assert "CHLOÉ" not in told_jean.text
    assert "CHLOÉ MARTIN — Restauration scolaire" in (await sophie.next_message()).text

    assert await _statuses(runtime, ids) == {
        "lucas_cantine": DayStatus.CANCELLED,
        "emma_cantine": DayStatus.CANCELLED,
        "chloe_cantine": DayStatus.CANCELLED,
        "lucas_soir": DayStatus.RESERVED,  # another service
        "emma_soir": DayStatus.ABSENT_EXCUSED,  # held no place
    }
    async with runtime.database.unit_of_work() as uow:
        history = await uow.repos.planning.history(ids["lucas_cantine"])
        request = await uow.repos.requests.get(ids["request"])
        closures = await uow.repos.planning.closures_between(TUESDAY, TUESDAY)
    assert [(e.from_status, e.to_status, e.actor_telegram_id) for e in history] == [
        (DayStatus.RESERVED, DayStatus.CANCELLED, claire.id)
    ]
    assert request.status == RequestStatus.CANCELLED
    assert [(c.reason, code) for c, code in closures] == [
        ("Grève du personnel de restauration", "cantine")
    ]

    await claire.send_command("/fermeture", "24/11/2026", "cantine", "Grève", chat=admin_group)
    assert "déjà fermé" in (await admin_group.next_message()).text
    await jean.expect_silence(0.3)

    await claire.send_command("/reouvrir", "24/11/2026", "cantine", chat=admin_group)
    events = [
        await admin_group.next_message(),
        await admin_group.next_message(),
    ]  # the answer, and the card's update
    (card,) = [event for event in events if event.message_id == ids["card"]]
    assert card.button_labels  # pending again: staff decide
    (reopened,) = [plain(event.text) for event in events if event.message_id != ids["card"]]
    assert "3 réservations rétablies" in reopened and "2 familles prévenues" in reopened
    told_again = await jean.next_message()
    assert (
        "rouvert" in told_again.text and "LUCAS DUPONT — Restauration scolaire" in told_again.text
    )
    assert await _statuses(runtime, ids) == {
        "lucas_cantine": DayStatus.RESERVED,
        "emma_cantine": DayStatus.BOOKING_PROCESSING,
        "chloe_cantine": DayStatus.REGULAR,
        "lucas_soir": DayStatus.RESERVED,
        "emma_soir": DayStatus.ABSENT_EXCUSED,
    }
    async with runtime.database.unit_of_work() as uow:
        request = await uow.repos.requests.get(ids["request"])
        assert request.status == RequestStatus.PENDING
        assert await uow.repos.planning.closures_between(TUESDAY, TUESDAY) == []
        assert [e.outcome for e in await uow.repos.audit.entries(action="closure.reopen")] == ["ok"]


def _data_starting(message, prefix: str) -> str:  # type: ignore[no-untyped-def]
    return next(
        b["callback_data"]
        for row in message.buttons
        for b in row
        if b.get("callback_data", "").startswith(prefix)
    )


async def test_a_misspelt_service_closes_nothing_and_a_day_nothing_runs_is_pointed_out(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    await claire.send_command("/fermeture", "08/12/2026", "cantinne", "Grève", chat=admin_group)
    answer = plain((await admin_group.next_message()).text)
    assert (
        "Service inconnu : cantinne" in answer
        and "garderie_matin" in answer
        and "Rien n’a été fermé" in answer
    )
    await claire.send_command(
        "/fermeture", "29/11/2026", "cantine", "Grève", chat=admin_group
    )  # a Sunday
    preview = await admin_group.next_message()
    assert "Rien ne fonctionne ce jour-là" in plain(preview.text)
    await claire.tap(preview, _data_starting(preview, "sc:no:"))
    assert "rien n’a été fermé" in plain((await admin_group.next_message()).text)
    async with runtime.database.unit_of_work() as uow:
        assert (
            await uow.repos.planning.closures_between(dt.date(2026, 11, 29), dt.date(2026, 12, 8))
            == []
        )


async def test_closing_needs_a_day_to_come_and_a_reason(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser
) -> None:
    await claire.send_command("/fermeture", "20/11/2026", "Travaux", chat=admin_group)
    assert "est passé" in (await admin_group.next_message()).text
    await claire.send_command("/fermeture", "demain", "cantine", chat=admin_group)
    assert "Utilisation\u00a0: /fermeture" in (await admin_group.next_message()).text


async def test_headcount_per_service_with_allergies_and_a_csv_of_names(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    await _planning(runtime, admin_group)
    await claire.send_command("/effectifs", chat=admin_group)  # tomorrow: Tuesday 24
    summary = plain((await admin_group.next_message()).text)
    assert "Effectifs du mardi 24 novembre 2026" in summary
    assert (
        "Restauration scolaire : 2 + 1 en attente — ⚠️ 1 allergie" in summary
    )  # a booking waiting for staff is shown apart
    assert "Garderie soir : 1 — ⚠️ 1 allergie" in summary
    assert "Garderie matin : 0" in summary
    assert "LUCAS DUPONT (Restauration scolaire) : arachide" in summary

    document = await admin_group.next_message()
    assert document.document["file_name"] == "effectifs-2026-11-24.csv"
    content = botapi.file_content(document.document["file_id"]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0] == ["Date", "Service", "Nom", "Prénom", "École", "Classe", "Statut", "Allergies"]
    assert sorted((r[1], r[2], r[3], r[6], r[7]) for r in rows[1:]) == [
        ("Garderie soir", "DUPONT", "LUCAS", "réservé", "arachide"),
        ("Restauration scolaire", "DUPONT", "LUCAS", "réservé", "arachide"),
        ("Restauration scolaire", "MARTIN", "CHLOÉ", "régulier", ""),
    ]


async def test_family_fiche_and_unlinking_an_account(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    await _planning(runtime, admin_group)
    await claire.send_command("/famille", "1001 0018 18331", chat=admin_group)
    fiche = await admin_group.next_message()
    text = plain(fiche.text)
    assert "Famille JEAN DUPONT — N° famille 1001001818331" in text
    assert (
        "Monsieur JEAN DUPONT" in text
        and "06 12 34 56 78" in text
        and "Madame JEANNE DUPONT" in text
    )
    assert "Solde : 120,60 €" in text and "1 facture impayée" in text
    assert "LUCAS DUPONT, né le 14/03/2017 — CE2" in text and "allergies : arachide" in text
    assert "EMMA DUPONT, née le 02/09/2020 — MS" in text  # agreeing with the child's sex
    assert "Réservation — en attente" in text
    assert "compte Jean (101), relié le 23/11/2026 (invitation)" in text  # the person, by name
    assert fiche.button_labels == ["🔗 Délier le compte 101"]

    await claire.tap(fiche, "🔗 Délier le compte 101")
    confirm = await admin_group.next_message()
    await claire.tap(confirm, "Oui, délier")
    again = await claire.tap(confirm, "Oui, délier")  # a double tap
    assert (
        "Compte 101 délié de la famille N° 1001001818331" in (await admin_group.next_message()).text
    )
    assert "n’est plus relié" in (await jean.next_message()).text
    await jean.send_command("/accueil")
    assert "pas encore relié" in (await jean.next_message()).text
    async with runtime.database.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action="telegram_link.revoke")
    assert [(e.actor_telegram_id, e.outcome) for e in audit] == [(claire.id, "ok")]
    assert "déjà délié" in (await botapi.wait_callback_answer(again))["text"]


async def test_the_family_fiche_says_ne_or_nee_and_ne_e_only_when_the_sex_is_unknown(
    admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        assert family is not None
        for child in await uow.repos.families.children(family.id):
            if child.first_name == "LUCAS":
                child.sex = None  # not given by the commune's file
        await uow.commit()
    await claire.send_command("/famille", DUPONT, chat=admin_group)
    text = plain((await admin_group.next_message()).text)
    assert "LUCAS DUPONT, né(e) le 14/03/2017" in text
    assert "EMMA DUPONT, née le 02/09/2020" in text
