"""Boîte de réception: a parent writes, the staff answer from their group, both keep the thread."""

from __future__ import annotations

import pytest

from bot.domain.model import MessageDirection
from bot.runtime import Runtime
from tests.conversations.conftest import DUPONT, MARTIN
from tests.conversations.staff.conftest import plain
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")


async def _open_inbox(parent: FakeUser):  # type: ignore[no-untyped-def]
    await parent.send_command("/accueil")
    home = await parent.next_message()
    await parent.tap(home, "✉️ Boîte de réception")
    return await parent.next_message()


async def _messages(runtime: Runtime, number: str = DUPONT):  # type: ignore[no-untyped-def]
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        return list(
            reversed(
                await uow.repos.messages.of_family(
                    family.id, direction=None, deleted=False, limit=50
                )
            )
        )


async def test_a_parent_message_and_the_staff_answer_make_a_thread_on_both_sides(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean, jeanne = botapi.user(101, "Jean", last_name="Dupont"), botapi.user(102, "Jeanne")
    await link(jean)
    await link(jeanne)

    inbox = await _open_inbox(jean)
    assert "Boîte de réception" in inbox.text and "✍️ Écrire à la structure" in inbox.button_labels
    await jean.tap(inbox, "✍️ Écrire à la structure")
    assert "Écrivez votre message" in (await jean.next_message()).text
    await jean.send("Bonjour, Lucas aura un PAI à partir de lundi. Que faut-il fournir ?")
    assert "a été envoyé à la structure" in (await jean.next_message()).text

    relayed = await admin_group.next_message()
    text = plain(relayed.text)
    assert "Message de la famille JEAN DUPONT" in text and "1001001818331" in text
    assert "Lucas aura un PAI" in text and "Répondez à ce message" in text

    await claire.reply_to(
        relayed, "Bonjour, merci d'apporter le certificat du médecin à l'accueil."
    )
    for parent in (jean, jeanne):
        answer = await parent.next_message()
        assert "Réponse du Service Enfance Jeunesse" in answer.text
        assert "certificat du médecin" in answer.text and "Lucas aura un PAI" in answer.text
        assert answer.button_labels == ["↩️ Répondre", "✉️ Boîte de réception"]
    confirmation = await admin_group.next_message()
    assert (
        "Envoyé à la famille JEAN DUPONT" in plain(confirmation.text)
        and "2 comptes" in confirmation.text
    )

    stored = await _messages(runtime)
    assert [m.direction for m in stored] == [
        MessageDirection.FROM_FAMILY,
        MessageDirection.FROM_STRUCTURE,
    ]
    assert (
        stored[1].reply_to_id == stored[0].id and stored[0].admin_message_id == relayed.message_id
    )

    # the parent's side of the thread: unread on the home screen until opened
    await jean.send_command("/accueil")
    assert "Vous avez 1 nouveau message." in (await jean.next_message()).text
    inbox = await _open_inbox(jean)
    await jean.tap(inbox, "📥 Reçus (1)")
    received = await jean.next_message()
    assert received.button_labels[0].startswith("🔵 📥")
    await jean.tap(received, received.button_labels[0])
    opened = await jean.next_message()
    assert "certificat du médecin" in opened.text and "En réponse au message du" in opened.text
    await jean.tap(opened, "⬅️ Retour à la liste")
    await jean.next_message()
    await jean.send_command("/accueil")
    assert "Vous avez 0 nouveau message." in (await jean.next_message()).text
    inbox = await _open_inbox(jean)
    await jean.tap(inbox, "📤 Envoyés (1)")
    sent = await jean.next_message()
    await jean.tap(sent, sent.button_labels[0])
    thread = await jean.next_message()
    assert (
        "Votre message" in thread.text
        and "Réponses" in thread.text
        and "certificat du médecin" in thread.text
    )


async def test_a_parent_replies_to_an_answer_with_a_photo_and_a_pdf(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    await claire.send_command(
        "/message", DUPONT, "Merci de nous envoyer l'attestation d'assurance.", chat=admin_group
    )
    note = await jean.next_message()
    assert (
        "Message du Service Enfance Jeunesse" in note.text
        and "attestation d'assurance" in note.text
    )
    assert "Envoyé à la famille" in plain((await admin_group.next_message()).text)

    await jean.tap(note, "↩️ Répondre")
    assert "En réponse à" in (await jean.next_message()).text
    await jean.send_sticker()
    assert "un texte, une photo ou un PDF" in (await jean.next_message()).text
    await jean.send_document(b"%PDF-1.4 assurance", "assurance.pdf", caption="Voici l'attestation")
    await jean.next_message()
    relayed = await admin_group.next_message()
    assert relayed.document is not None and relayed.document["file_name"] == "assurance.pdf"
    assert "Voici l'attestation" in relayed.caption and "En réponse à" in relayed.caption

    inbox = await _open_inbox(jean)
    await jean.tap(inbox, "✍️ Écrire à la structure")
    await jean.next_message()
    await jean.send_photo(caption="La photo du certificat")
    await jean.next_message()
    photo = await admin_group.next_message()
    assert photo.photo is not None and "La photo du certificat" in photo.caption

    stored = await _messages(runtime)
    assert [(m.direction, m.attachment_kind) for m in stored] == [
        (MessageDirection.FROM_STRUCTURE, None),
        (MessageDirection.FROM_FAMILY, "document"),
        (MessageDirection.FROM_FAMILY, "photo"),
    ]
    assert stored[1].reply_to_id == stored[0].id


async def test_pressing_another_button_while_writing_sends_nothing(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    inbox = await _open_inbox(jean)
    await jean.tap(inbox, "✍️ Écrire à la structure")
    prompt = await jean.next_message()
    await jean.tap(prompt, "✖️ Annuler")
    assert "Boîte de réception" in (await jean.next_message()).text
    await jean.send("bonjour")
    assert "pas compris" in (await jean.next_message()).text

    inbox = await _open_inbox(jean)
    await jean.tap(inbox, "✍️ Écrire à la structure")
    await jean.next_message()
    await jean.send_command("/accueil")
    assert "Bienvenue" in (await jean.next_message()).text
    await jean.send("bonjour")
    assert "pas compris" in (await jean.next_message()).text
    await admin_group.expect_silence(0.3)
    assert await _messages(runtime) == []


async def test_a_deleted_message_is_kept_among_deleted_messages(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    await claire.send_command(
        "/message", DUPONT, "La sortie au musée est reportée.", chat=admin_group
    )
    await jean.next_message()
    inbox = await _open_inbox(jean)
    await jean.tap(inbox, "📥 Reçus (1)")
    received = await jean.next_message()
    await jean.tap(received, received.button_labels[0])
    opened = await jean.next_message()
    query = await jean.tap(opened, "🗑 Supprimer")
    assert "Message supprimé" in (await botapi.wait_callback_answer(query))["text"]
    deleted_list = await jean.next_message()
    assert "Messages supprimés" in deleted_list.text
    await jean.tap(deleted_list, deleted_list.button_labels[0])
    shown = await jean.next_message()
    assert (
        "La sortie au musée" in shown.text
        and "Supprimé le" in shown.text
        and "🗑 Supprimer" not in shown.button_labels
    )
    inbox = await _open_inbox(jean)
    assert (
        "📥 Reçus (0)" in inbox.button_labels and "🗑 Messages supprimés (1)" in inbox.button_labels
    )
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        kept = await uow.repos.messages.of_family(family.id, direction=None, deleted=True, limit=5)
    assert len(kept) == 1 and kept[0].deleted_at is not None


async def test_a_forged_button_cannot_open_another_familys_message(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean, sophie = botapi.user(101, "Jean"), botapi.user(201, "Sophie")
    await link(jean)
    await link(sophie, MARTIN)
    await claire.send_command(
        "/message", MARTIN, "Le dossier de Chloé est complet.", chat=admin_group
    )
    await sophie.next_message()
    martin_message = (await _messages(runtime, MARTIN))[0]

    inbox = await _open_inbox(jean)
    stored = botapi.chat(jean.id).messages[inbox.message_id]
    stored.data["reply_markup"]["inline_keyboard"][0][0]["callback_data"] = (
        f"ib:open:{martin_message.id}"
    )
    query = await jean.tap(inbox, "✍️ Écrire à la structure")
    answer = await botapi.wait_callback_answer(query)
    assert "pas disponible" in answer["text"]
    await jean.expect_silence(0.3)
    assert all("Chloé" not in m.text for m in jean.messages())
    async with runtime.database.unit_of_work() as uow:
        refused = await uow.repos.audit.entries(action="inbox.access")
    assert [(e.actor_telegram_id, e.outcome) for e in refused] == [(jean.id, "refused")]


async def test_message_to_an_unknown_or_unlinked_family(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    await claire.send_command("/message", "999999999", "Bonjour", chat=admin_group)
    assert "Aucune famille n’a le numéro 999999999" in (await admin_group.next_message()).text
    await claire.send_command("/message", MARTIN, "Votre dossier est complet.", chat=admin_group)
    assert (
        "le message l’attend dans sa boîte de réception" in (await admin_group.next_message()).text
    )
    assert len(await _messages(runtime, MARTIN)) == 1
