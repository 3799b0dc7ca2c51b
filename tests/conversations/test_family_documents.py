"""Infos / Documents: staff publish with /document, parents receive the files, the fiche
d'inscription comes as a PDF, and /mesdonnees sends everything held about the family."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader

from bot.runtime import Runtime
from bot.staff import ACTION_STAFF_REFUSED
from tests.support.botapi import QUERY_TOO_OLD, BotApiStub, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")

STAFF_CHAT = -100555


def staff_group(botapi: BotApiStub, runtime: Runtime) -> tuple[FakeGroup, FakeUser]:
    group = botapi.group(STAFF_CHAT, "Personnel")
    botapi.admins[group.id] = [900]
    runtime.settings.admin_chat_id = group.id
    return group, botapi.user(900, "Agnès")


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def open_documents(jean: FakeUser):  # type: ignore[no-untyped-def]
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "📄 Infos / Documents")
    return await jean.next_message()


async def test_staff_publish_a_document_and_parents_receive_it(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    group, agnes = staff_group(botapi, runtime)
    await agnes.send_document(
        b"%PDF reglement", "reglement.pdf", caption="/document Règlement intérieur 2026", chat=group
    )
    published = await group.next_message()
    assert "Publié pour les familles\u00a0: Règlement intérieur 2026" in published.text
    menu = await agnes.send_photo(caption="Menu de décembre", chat=group)
    await agnes.reply_to(menu, "/document Menus de décembre")
    assert "Menus de décembre" in (await group.next_message()).text

    jean = botapi.user(101, "Jean")
    await link(jean)
    documents = await open_documents(jean)
    assert (
        "📎 Menus de décembre" in documents.button_labels
        and "📎 Règlement intérieur 2026" in documents.button_labels
    )
    assert "Mairie de Saint-Jean" in documents.text
    await jean.tap(documents, "📎 Règlement intérieur 2026")
    sent = await jean.next_message()
    assert (
        sent.document is not None
        and botapi.file_content(sent.document["file_id"]) == b"%PDF reglement"
    )
    assert sent.caption == "Règlement intérieur 2026"
    await jean.tap(documents, "📎 Menus de décembre")
    assert (await jean.next_message()).photo is not None


async def test_a_document_is_sent_even_when_the_tap_is_answered_too_late(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    group, agnes = staff_group(botapi, runtime)
    await agnes.send_document(b"%PDF tard", "tard.pdf", caption="/document Règlement", chat=group)
    await group.next_message()
    jean = botapi.user(101, "Jean")
    await link(jean)
    documents = await open_documents(jean)
    botapi.fail_next("answerCallbackQuery", 400, QUERY_TOO_OLD)
    await jean.tap(documents, "📎 Règlement")
    sent = await jean.next_message()
    assert (
        sent.document is not None and botapi.file_content(sent.document["file_id"]) == b"%PDF tard"
    )


async def test_a_withdrawn_document_is_no_longer_given(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    group, agnes = staff_group(botapi, runtime)
    await agnes.send_document(
        b"%PDF old", "old.pdf", caption="/document Ancien règlement", chat=group
    )
    published = await group.next_message()
    jean = botapi.user(101, "Jean")
    await link(jean)
    documents = await open_documents(jean)
    await agnes.tap(published, "🗑 Retirer")
    assert "Retiré\u00a0: Ancien règlement" in (await group.next_message()).text
    query = await jean.tap(documents, "📎 Ancien règlement")  # the button of the old list
    assert "n’est plus disponible" in (await botapi.wait_callback_answer(query))["text"]
    assert "📎 Ancien règlement" not in (await open_documents(jean)).button_labels


async def test_publishing_and_withdrawing_are_audited_with_their_outcome(
    botapi: BotApiStub, runtime: Runtime
) -> None:
    group, agnes = staff_group(botapi, runtime)
    await agnes.send_document(b"%PDF menu", "menu.pdf", caption="/document Menu", chat=group)
    published = await group.next_message()
    await agnes.send_command("/documents", chat=group)
    listed = await group.next_message()
    assert "Menu" in listed.text
    await agnes.tap(published, "🗑 Retirer")
    assert "Retiré\u00a0: Menu" in (await group.next_message()).text
    query = await agnes.tap(listed, "🗑 Retirer")  # the same document, from the list
    assert (await botapi.wait_callback_answer(query))["text"] == "Déjà retiré."
    async with runtime.database.unit_of_work() as uow:
        entries = [
            e
            for action in ("document.publish", "document.list", "document.withdraw")
            for e in await uow.repos.audit.entries(action=action)
        ]
    assert [(e.action, e.outcome, e.actor_telegram_id, e.actor_kind) for e in entries] == [
        ("document.publish", "ok", 900, "staff"),
        ("document.list", "ok", 900, "staff"),
        ("document.withdraw", "ok", 900, "staff"),
        ("document.withdraw", "refused", 900, "staff"),
    ]
    assert entries[0].target == entries[2].target == entries[3].target


async def test_a_document_needs_a_title(botapi: BotApiStub, runtime: Runtime) -> None:
    group, agnes = staff_group(botapi, runtime)
    await agnes.send_document(b"%PDF", "y.pdf", caption="/document", chat=group)
    usage = await group.next_message()
    assert "/document Titre" in usage.text
    async with runtime.database.unit_of_work() as uow:
        assert await uow.repos.documents.published() == []


async def test_someone_outside_the_staff_cannot_publish(
    botapi: BotApiStub, runtime: Runtime
) -> None:
    staff_group(botapi, runtime)
    parents = botapi.group(-100999, "Parents de l’école")
    eve = botapi.user(666, "Eve")  # not a member of the staff group
    botapi.set_handler("leaveChat", lambda params: True)
    await eve.send_document(b"%PDF", "x.pdf", caption="/document Faux document", chat=parents)
    await parents.expect_silence(0.4)  # not the admin group: no answer, the bot leaves it
    await eve.send_document(b"%PDF", "x.pdf", caption="/document Faux document")  # in private
    assert "réservée au personnel" in (await eve.next_message()).text
    async with runtime.database.unit_of_work() as uow:
        assert await uow.repos.documents.published() == []
        refused = await uow.repos.audit.entries(action=ACTION_STAFF_REFUSED)
        assert [(e.actor_telegram_id, e.target) for e in refused][-1] == (666, "document.publish")


async def test_the_fiche_d_inscription_blank_and_prefilled(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    documents = await open_documents(jean)
    await jean.tap(documents, "📝 Fiche d’inscription vierge")
    blank = await jean.next_message()
    assert blank.document is not None and blank.document["file_name"] == "fiche-inscription.pdf"
    text = pdf_text(botapi.file_content(blank.document["file_id"]))
    assert (
        "FICHE D’INSCRIPTION 2026-2027" in text and "Fiche vierge" in text
    )  # DejaVu Sans prints the ’
    assert "DUPONT" not in text and "Garderie matin" in text
    await jean.tap(documents, "📝 Fiche d’inscription de LUCAS")
    filled = await jean.next_message()
    assert filled.document["file_name"] == "fiche-inscription-lucas.pdf"
    text = pdf_text(botapi.file_content(filled.document["file_id"]))
    for expected in (
        "1001001818331",
        "DUPONT",
        "JEAN",
        "JEANNE",
        "LUCAS",
        "14/03/2017",
        "CE2",
        "12 RUE DES BONBONS",
        "[X] Garderie matin",
    ):
        assert expected in text, expected


async def test_mesdonnees_sends_all_the_family_data_as_text_and_json(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/mesdonnees")
    intro = await jean.next_message()
    assert "toutes les données" in intro.text
    readable, machine = await jean.next_message(), await jean.next_message()
    assert readable.document["file_name"].endswith(".txt") and machine.document[
        "file_name"
    ].endswith(".json")
    text = botapi.file_content(readable.document["file_id"]).decode("utf-8")
    assert "Données détenues sur la famille n° 1001001818331" in text
    assert "== Enfants\u00a0: 2 ==" in text and "LUCAS" in text and "family_id" not in text
    data = json.loads(botapi.file_content(machine.document["file_id"]))
    assert data["family_number"] == "1001001818331"
    assert {"families", "guardians", "children", "invoices", "requests", "telegram_links"} <= set(
        data["tables"]
    )
    assert "MARTIN" not in json.dumps(data, ensure_ascii=False)
