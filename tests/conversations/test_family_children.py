"""Mes enfants: the fiche enfant, the authorised persons, the health data, enrolments, a new
child — and no button reaches a child of another family."""

from __future__ import annotations

import pytest

from bot.domain.model import RequestKind
from bot.runtime import Runtime
from bot.services.children import ACTION_OWNERSHIP_REFUSED
from bot.services.requests import decide_request
from storage.models import AuthorizedPerson
from tests.conversations.conftest import DUPONT, MARTIN
from tests.conversations.family_support import forge_tap
from tests.support.botapi import BotApiStub, ChatMessage, FakeUser

pytestmark = pytest.mark.usefixtures("bot")


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def open_child(jean: FakeUser, name: str = "LUCAS") -> ChatMessage:
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "👧 Mes enfants")
    children = await jean.next_message()
    await jean.tap(children, f"👧 {name}")
    return await jean.next_message()


async def child_id(runtime: Runtime, name: str, number: str = DUPONT) -> int:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        return next(
            c.id for c in await uow.repos.families.children(family.id) if c.first_name == name
        )


async def pending(runtime: Runtime, kind: RequestKind):  # type: ignore[no-untyped-def]
    async with runtime.database.unit_of_work() as uow:
        return [r for r in await uow.repos.requests.pending() if r.kind == kind]


async def decide(
    runtime: Runtime, request_id: int, accept: bool, reason: str | None = None
) -> None:
    async with runtime.database.unit_of_work() as uow:
        await decide_request(
            uow,
            request_id,
            accept=accept,
            staff_id=901,
            staff_name="Claire",
            now=runtime.now(),
            reason=reason,
        )
        await uow.commit()


async def fill(jean: FakeUser, form: ChatMessage, label: str, value: str) -> ChatMessage:
    """Tap a field of the form, type its value, return the form shown again."""
    await jean.tap(form, label)
    await jean.next_message()
    await jean.send(value)
    return await jean.next_message()


async def test_the_fiche_enfant(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.tap(jean.last_message(), "👧 Mes enfants")
    children = await jean.next_message()
    assert "LUCAS" in children.text and "CE2" in children.text and "EMMA" in children.text
    assert "➕ Ajouter un enfant" in children.button_labels
    fiche = await open_child(jean)
    text = plain(fiche.text)
    assert "LUCAS DUPONT" in text and "Identifiant : 383306398666" in text
    assert "Né le mardi 14 mars 2017 (9 ans)" in text
    assert "École élémentaire Jules Ferry — classe CE2" in text
    assert "Nom du responsable : DUPONT JEAN — N° famille 1001001818331" in text
    assert "Inscriptions en cours" in text and "• Garderie matin, depuis le 01/09/2026" in text
    for label in (
        "🛡 Les autorisations",
        "🩺 Données sanitaires",
        "📝 Inscrire à un service",
        "📄 Fiche d’inscription (PDF)",
    ):
        assert label in fiche.button_labels
    await jean.tap(fiche, "💶 Tarifs en cours")  # the money feature's page
    assert "Tarifs en cours" in (await jean.next_message()).text
    fiche = await open_child(jean)
    await jean.tap(fiche, "📅 Planning")  # the planning feature's calendar of this child
    assert "LUCAS" in (await jean.next_message()).text


async def test_adding_and_removing_an_authorised_person(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    fiche = await open_child(jean)
    await jean.tap(fiche, "🛡 Les autorisations")
    page = await jean.next_message()
    assert "Personne n’est encore enregistré." in page.text
    await jean.tap(page, "➕ Nouvelle personne")
    form = await jean.next_message()
    form = await fill(jean, form, "Nom*", "VOISNE")
    form = await fill(jean, form, "Lien de parenté*", "Voisine")
    query = await jean.tap(form, "📨 Envoyer la demande")
    assert (
        "Reste à remplir\u00a0: Téléphone" in (await botapi.wait_callback_answer(query))["text"]
    )  # a phone at least
    await jean.tap(form, "Mobile")
    await jean.next_message()
    await jean.send("12 34")
    assert "n’est pas valable" in (await jean.next_message()).text
    await jean.send("06 12 34 56 78")
    form = await jean.next_message()
    assert "Nom*\u00a0: VOISNE" in form.text and "Mobile\u00a0: 06 12 34 56 78" in form.text
    await jean.tap(form, "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    await jean.next_message()
    [request] = await pending(runtime, RequestKind.AUTHORIZATION)

    fiche = await open_child(jean)
    await jean.tap(fiche, "🛡 Les autorisations")
    page = await jean.next_message()
    assert "Demandes d’ajout en cours" in page.text and "VOISNE" in page.text

    await decide(runtime, request.id, accept=True)
    fiche = await open_child(jean)
    await jean.tap(fiche, "🛡 Les autorisations")
    page = await jean.next_message()
    assert "• VOISNE — Voisine — 06 12 34 56 78" in page.text and "en cours" not in page.text
    await jean.tap(page, "🗑 VOISNE")
    confirm = await jean.next_message()
    assert "supprimer l’autorisation de VOISNE" in confirm.text
    await jean.tap(confirm, "Oui, demander la suppression")
    page = await jean.next_message()
    assert "Demandes de suppressions en cours" in page.text and "🗑 VOISNE" not in page.button_labels
    [removal] = await pending(runtime, RequestKind.AUTHORIZATION_REMOVAL)
    await decide(runtime, removal.id, accept=False, reason="Pièce d’identité manquante")
    async with runtime.database.unit_of_work() as uow:
        assert [
            p.last_name
            for p in await uow.repos.children.authorized_persons(await child_id(runtime, "LUCAS"))
        ] == ["VOISNE"]


async def test_health_data_a_vaccination_is_asked_with_its_dates(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    fiche = await open_child(jean)
    await jean.tap(fiche, "🩺 Données sanitaires")
    health = await jean.next_message()
    assert "Vaccinations" in health.text and "Lunettes\u00a0: non" in health.text
    await jean.tap(health, "➕ Vaccination")
    form = await jean.next_message()
    form = await fill(jean, form, "Nom du vaccin*", "Pentacoq")
    await jean.tap(form, "Date de vaccination*")
    await jean.next_message()
    await jean.send("12/06/2027")
    assert "dans le futur" in (await jean.next_message()).text
    await jean.send("12/06/2014")
    form = await jean.next_message()
    form = await fill(jean, form, "Date de rappel", "01/07/2017")
    form = await fill(jean, form, "Lot", "A123")
    assert (
        "Nom du vaccin*\u00a0: Pentacoq" in form.text
        and "Date de vaccination*\u00a0: 12/06/2014" in form.text
    )
    assert "Date de rappel\u00a0: 01/07/2017" in form.text and "Lot\u00a0: A123" in form.text
    await jean.tap(form, "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    done = await jean.next_message()
    await jean.tap(done, "◀ Retour")
    health = await jean.next_message()
    assert (
        "Demandes d’ajout en cours" in health.text
        and "Pentacoq" in health.text
        and "01/07/2017" in health.text
    )
    [request] = await pending(runtime, RequestKind.HEALTH)
    await decide(runtime, request.id, accept=True)
    fiche = await open_child(jean)
    await jean.tap(fiche, "🩺 Données sanitaires")
    health = await jean.next_message()
    assert "• Pentacoq, 12/06/2014, lot A123, rappel le 01/07/2017" in health.text


async def test_glasses_and_an_allergy(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    fiche = await open_child(jean, "EMMA")
    await jean.tap(fiche, "🩺 Données sanitaires")
    await jean.tap(await jean.next_message(), "👓 Lunettes")
    form = await jean.next_message()
    await jean.tap(form, "Porte des lunettes")
    await jean.tap(await jean.next_message(), "Oui")
    form = await jean.next_message()
    assert "Porte des lunettes\u00a0: non → oui" in form.text
    await jean.tap(form, "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    await jean.tap(await jean.next_message(), "◀ Retour")
    await jean.tap(await jean.next_message(), "➕ Allergie")
    form = await fill(jean, await jean.next_message(), "Allergie*", "Arachide")
    await jean.tap(form, "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    await jean.next_message()
    requests = await pending(runtime, RequestKind.HEALTH)
    assert [r.payload["form"] for r in requests] == ["glasses", "allergy"]
    for request in requests:
        await decide(runtime, request.id, accept=True)
    fiche = await open_child(jean, "EMMA")
    await jean.tap(fiche, "🩺 Données sanitaires")
    health = await jean.next_message()
    assert "Lunettes\u00a0: oui" in health.text and "• Arachide" in health.text


async def test_enrolling_a_child_in_a_service(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    fiche = await open_child(jean, "EMMA")
    await jean.tap(fiche, "📝 Inscrire à un service")
    services = await jean.next_message()
    assert "Garderie matin" in services.button_labels and "Cantine" not in str(
        services.button_labels
    )
    await jean.tap(services, "Garderie matin")
    form = await jean.next_message()
    assert "EMMA — Garderie matin" in form.text and "À partir du*\u00a0: 23/11/2026" in form.text
    form = await fill(jean, form, "✅ À partir du*", "01/12/2026")
    await jean.tap(form, "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    await jean.next_message()
    [request] = await pending(runtime, RequestKind.ENROLMENT)
    fiche = await open_child(jean, "EMMA")
    await jean.tap(fiche, "📝 Inscrire à un service")
    services = await jean.next_message()
    assert "Garderie matin" not in services.button_labels and "Déjà demandé" in services.text
    await decide(runtime, request.id, accept=True)
    fiche = await open_child(jean, "EMMA")
    assert "• Garderie matin, depuis le 01/12/2026" in fiche.text


async def test_asking_to_add_a_child(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.tap(jean.last_message(), "👧 Mes enfants")
    await jean.tap(await jean.next_message(), "➕ Ajouter un enfant")
    form = await jean.next_message()
    form = await fill(jean, form, "Nom*", "DUPONT")
    form = await fill(jean, form, "Prénom*", "LÉA")
    query = await jean.tap(form, "📨 Envoyer la demande")
    assert "Date de naissance" in (await botapi.wait_callback_answer(query))["text"]
    form = await fill(jean, form, "Date de naissance*", "02/04/2023")
    await jean.tap(form, "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    await jean.next_message()
    [request] = await pending(runtime, RequestKind.ADD_CHILD)
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "👧 Mes enfants")
    children = await jean.next_message()
    assert "Demandes d’ajout d’enfant en cours" in children.text and "LÉA" in children.text
    await decide(runtime, request.id, accept=True)
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "👧 Mes enfants")
    assert "👧 LÉA" in (await jean.next_message()).button_labels


@pytest.mark.parametrize(
    "data",
    [
        "kc:{chloe}",
        "ka:{chloe}",
        "kh:{chloe}",
        "ke:{chloe}",
        "kr:{chloe}:{person}",
        "kq:{chloe}:{person}",
        "fs:allergy:{chloe}",
        "fs:child_data:{chloe}",
        "fe:{chloe}:1",
        "dp:{chloe}",
    ],
)
async def test_a_forged_child_of_another_family_is_refused_and_audited(
    botapi: BotApiStub, link, runtime: Runtime, data: str
) -> None:  # type: ignore[no-untyped-def]
    chloe = await child_id(runtime, "CHLOÉ", MARTIN)
    async with runtime.database.unit_of_work() as uow:
        person = AuthorizedPerson(
            child_id=chloe, last_name="SECRET", relation="Tante", mobile="06 00 00 00 00"
        )
        uow.repos.children.add(person)
        await uow.commit()
        person_id = person.id
    jean = botapi.user(101, "Jean")
    await link(jean)
    query = forge_tap(botapi, jean, jean.last_message(), data.format(chloe=chloe, person=person_id))
    answer = await botapi.wait_callback_answer(query)
    assert "ne fait pas partie de votre famille" in answer["text"]
    await jean.expect_silence(0.3)
    assert all("CHLOÉ" not in m.text and "SECRET" not in m.text for m in jean.messages())
    async with runtime.database.unit_of_work() as uow:
        refused = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
        assert [(e.actor_telegram_id, e.target) for e in refused] == [(101, f"child:{chloe}")]
        assert await uow.repos.requests.pending() == []
        assert [p.last_name for p in await uow.repos.children.authorized_persons(chloe)] == [
            "SECRET"
        ]


async def test_a_forged_person_of_another_child_is_refused_and_audited(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    chloe = await child_id(runtime, "CHLOÉ", MARTIN)
    lucas = await child_id(runtime, "LUCAS")
    async with runtime.database.unit_of_work() as uow:
        person = AuthorizedPerson(child_id=chloe, last_name="SECRET", relation="Tante")
        uow.repos.children.add(person)
        await uow.commit()
        person_id = person.id
    jean = botapi.user(101, "Jean")
    await link(jean)
    for data in (f"kr:{lucas}:{person_id}", f"kq:{lucas}:{person_id}"):
        answer = await botapi.wait_callback_answer(
            forge_tap(botapi, jean, jean.last_message(), data)
        )
        assert "ne figure plus sur la liste" in answer["text"]
    async with runtime.database.unit_of_work() as uow:
        refused = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
        assert [e.target for e in refused] == [f"authorized_person:{person_id}"] * 2
        assert await uow.repos.requests.pending() == []


@pytest.mark.parametrize(
    "data",
    [
        "menu:account",
        "menu:children",
        "menu:requests",
        "menu:documents",
        "ma:b",
        "kc:1",
        "kh:1",
        "fs:responsable:0",
        "rl:all:1",
        "dp:0",
        "md",
    ],
)
async def test_someone_not_linked_sees_no_family_data(botapi: BotApiStub, data: str) -> None:
    eve = botapi.user(666, "Eve")
    await eve.send_command("/accueil")
    told = await eve.next_message()
    query = forge_tap(botapi, eve, told, data)
    await botapi.wait_callback_answer(query)
    answer = await eve.next_message()
    assert "pas encore relié" in answer.text
    await eve.expect_silence(0.3)
    assert all("DUPONT" not in m.text and "LUCAS" not in m.text for m in eve.messages())
