"""Switching a commune on from the admin group: staff import the families' file, print the
letters, a parent links with the code of the letter; the month's export for the accounts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

from pypdf import PdfReader
from telegram.ext import Application

from bot import callbacks
from bot.domain.billing import BillingPeriod
from bot.domain.model import DayStatus
from bot.i18n import use_language
from bot.pdfs import build_invoice_pdf
from bot.runtime import Runtime
from bot.services.billing import invoice_document
from storage.models import Family
from tests.conversations.staff.conftest import plain, wait_until
from tests.support.botapi import BotApiStub, ChatMessage, FakeGroup, FakeUser
from tests.support.families_file import family_number, family_rows, to_csv
from tests.support.money import DUPONT, MARTIN, NOW, add_days, issue


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def button_data(message: ChatMessage, action: str) -> list[str]:
    return [
        b["callback_data"]
        for row in message.buttons
        for b in row
        if b.get("callback_data", "").startswith(action + ":")
    ]


async def count_families(runtime: Runtime, prefix: str = "2") -> int:
    async with runtime.database.unit_of_work() as uow:
        return sum(1 for f in await uow.repos.imports.families() if f.number.startswith(prefix))


async def test_staff_import_the_families_file_from_the_group_then_confirm(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    admin_group: FakeGroup,
    claire: FakeUser,  # type: ignore[type-arg]
) -> None:
    rows = family_rows(3)
    rows[1]["Code postal"] = "314"
    await claire.send_document(
        to_csv(rows, encoding="cp1252"),
        "familles.csv",
        "text/csv",
        caption="/import",
        chat=admin_group,
    )
    report = await admin_group.next_message()
    assert "Import de familles.csv : simulation, rien n’a été enregistré" in plain(report.text)
    assert "Ligne 3, colonne « Code postal » (« 314 ») : Un code postal compte 5 chiffres" in plain(
        report.text
    )
    assert button_data(report, callbacks.STAFF_IMPORT) == []  # a file with errors cannot be applied
    errors = await admin_group.next_message()
    assert errors.document is not None and errors.document["file_name"] == "erreurs-import.csv"
    lines = botapi.file_content(errors.document["file_id"]).decode("utf-8-sig").splitlines()
    assert lines[0] == "Ligne;Colonne;Valeur;Explication" and lines[1].startswith(
        "3;Code postal;314;"
    )

    rows[1]["Code postal"] = "31400"
    await claire.send_document(
        to_csv(rows), "familles.csv", "text/csv", caption="/import", chat=admin_group
    )
    report = await admin_group.next_message()
    assert "Familles : 3 à créer, 0 à mettre à jour, 0 inchangée(s)." in plain(report.text)
    assert "Rien n’a encore été enregistré. Importer ce fichier ?" in plain(report.text)
    assert await count_families(runtime) == 0
    (confirm, _cancel) = button_data(report, callbacks.STAFF_IMPORT)
    await claire.tap_data(report, confirm)
    applied = await admin_group.next_message()
    assert "Import de familles.csv : appliqué" in plain(
        applied.text
    ) and "Familles : 3 créée(s)" in plain(applied.text)
    assert "/lettres" in plain(applied.text)
    assert await count_families(runtime) == 3
    await claire.tap_data(report, confirm)  # a second tap applies nothing more
    await wait_until(lambda: _answered(botapi))
    async with runtime.database.unit_of_work() as uow:
        audit = [
            (e.action, e.outcome, e.actor_telegram_id, e.details.get("created"))
            for e in await uow.repos.audit.entries()
            if e.action.startswith("import.")
        ]
    assert audit == [
        ("import.preview", "ok", claire.id, None),
        ("import.preview", "ok", claire.id, 3),
        ("import.apply", "ok", claire.id, 3),
    ]

    await claire.send_document(
        to_csv(rows), "familles.csv", "text/csv", caption="/import", chat=admin_group
    )
    again = await admin_group.next_message()
    assert (
        "Rien à changer" in plain(again.text) and button_data(again, callbacks.STAFF_IMPORT) == []
    )


async def test_a_long_report_comes_as_a_file_too(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    admin_group: FakeGroup,
    claire: FakeUser,  # type: ignore[type-arg]
) -> None:
    rows = family_rows(120)
    for row in rows:
        row["Téléphone portable"] = "06 12"
    await claire.send_document(
        to_csv(rows), "familles.csv", "text/csv", caption="/import", chat=admin_group
    )
    report = await admin_group.next_message()
    assert len(
        report.text
    ) < 4096 and "Le rapport complet est dans le fichier ci-dessous." in plain(report.text)
    whole = await admin_group.next_message()
    assert whole.document["file_name"] == "rapport-import.txt"
    text = botapi.file_content(whole.document["file_id"]).decode("utf-8")
    assert text.count("colonne « Téléphone portable »") == len(rows)
    errors = await admin_group.next_message()
    assert errors.document["file_name"] == "erreurs-import.csv"


async def _answered(botapi: BotApiStub) -> bool:
    return any(
        "déjà été appliqué" in (c.params.get("text") or "")
        for c in botapi.calls("answerCallbackQuery")
    )


async def test_a_parent_links_with_the_code_printed_on_the_letter_and_sees_the_children(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    admin_group: FakeGroup,
    claire: FakeUser,  # type: ignore[type-arg]
) -> None:
    await claire.send_document(
        to_csv(family_rows(3)), "familles.csv", "text/csv", caption="/import", chat=admin_group
    )
    report = await admin_group.next_message()
    await claire.tap_data(report, button_data(report, callbacks.STAFF_IMPORT)[0])
    await admin_group.next_message()

    number = family_number(0)
    await claire.send(f"/lettres {number}", chat=admin_group)
    letter = await admin_group.next_message()
    assert letter.document is not None and letter.document["file_name"].startswith(
        "lettres-invitation-"
    )
    assert "1 lettre d’invitation à imprimer" in plain(letter.caption)
    text = pdf_text(botapi.file_content(letter.document["file_id"]))
    for expected in (
        "Mairie de Saint-Jean",
        "Monsieur MARTIN Hélène",
        "1 rue de l’Église",
        "31400 TOULOUSE",
        f"N° famille : {number}",
        "Votre Portail Famille sur Telegram",
        "Valable une seule fois",
    ):
        assert expected in plain(text).replace("'", "’"), f"{expected!r} not in {text}"
    (old_code,) = re.findall(r"\?start=([A-Za-z0-9_-]+)", text)

    await claire.send(
        f"/lettres {number}", chat=admin_group
    )  # printed again: the first letter no longer works
    second = await admin_group.next_message()
    assert "1 invitation précédente de ces familles ne fonctionne plus." in plain(second.caption)
    (code,) = re.findall(
        r"\?start=([A-Za-z0-9_-]+)", pdf_text(botapi.file_content(second.document["file_id"]))
    )

    helene = botapi.user(5001, "Hélène")
    await helene.send_command("/start", old_code)
    refused = await helene.next_message()
    assert "MARTIN" not in refused.text
    await helene.send_command("/start", code)
    home = await helene.next_message()  # the confirmation on top of the home screen
    assert "MARTIN" in home.text.upper()
    await helene.tap_data(home, callbacks.build(callbacks.MENU, "children"))
    children = await helene.next_message()
    assert "Léo" in plain(children.text) and "Jade" in plain(children.text)


async def test_the_export_totals_are_those_of_the_invoice_pdfs(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    admin_group: FakeGroup,
    claire: FakeUser,  # type: ignore[type-arg]
) -> None:
    db, structure = runtime.database, runtime.structure
    await add_days(
        db, MARTIN, "CHLOÉ", "cantine", [2, 3, 5, 6, 9], DayStatus.PRESENT, month=(2026, 11)
    )
    await add_days(
        db, MARTIN, "CHLOÉ", "garderie_matin", [2, 3], DayStatus.ABSENT_BILLED, month=(2026, 11)
    )
    await add_days(
        db,
        DUPONT,
        "LUCAS",
        "cantine",
        [2, 3, 5, 6, 9, 10, 12, 13],
        DayStatus.RESERVED,
        month=(2026, 11),
    )
    await add_days(
        db, DUPONT, "EMMA", "garderie_soir", [2, 3, 5], DayStatus.PRESENT, month=(2026, 11)
    )
    issued = (
        await issue(db, structure, BillingPeriod.month(2026, 11), today=dt.date(2026, 12, 1))
    ).issued
    assert len(issued) == 2

    await claire.send("/export 2026-11", chat=admin_group)
    invoices = await admin_group.next_message()
    payments = await admin_group.next_message()
    assert (
        invoices.document["file_name"] == "factures-2026-11.csv"
        and payments.document["file_name"] == "reglements-2026-11.csv"
    )
    rows = list(
        csv.DictReader(
            io.StringIO(botapi.file_content(invoices.document["file_id"]).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    amount = lambda text: Decimal(text.replace(",", "."))  # noqa: E731
    totals = {row["N° facture"]: amount(row["Montant facture"]) for row in rows}
    for number in totals:
        assert (
            sum(amount(r["Montant ligne"]) for r in rows if r["N° facture"] == number)
            == totals[number]
        )
    assert {row["N° famille"] for row in rows} == {DUPONT, MARTIN} and all(
        row["Service"] for row in rows
    )

    pdf_total = Decimal("0.00")
    for item in issued:
        async with db.unit_of_work() as uow:
            document = await invoice_document(
                uow, item.family_id, item.invoice_id, actor_telegram_id=1, now=NOW
            )
        with use_language("fr"):
            text = " ".join(
                pdf_text(build_invoice_pdf(document, structure))
                .replace("\xa0", " ")
                .replace("\u202f", " ")
                .split()
            )
        (found,) = re.findall(r"Total de la facture ([\d ]+,\d\d) €", text)
        pdf_total += amount(found.replace(" ", ""))
    assert sum(totals.values()) == pdf_total > 0
    assert f"total {plain(_money(pdf_total))}" in plain(invoices.caption)


def _money(value: Decimal) -> str:
    from bot.i18n import format_money

    with use_language("fr"):
        return format_money(value)


async def test_only_staff_import(
    botapi: BotApiStub, bot: Application, runtime: Runtime, admin_group: FakeGroup, eve: FakeUser
) -> None:  # type: ignore[type-arg]
    await eve.send_document(to_csv(family_rows(1)), "familles.csv", "text/csv", caption="/import")
    assert "réservée au personnel" in (await eve.next_message()).text
    await eve.send("/lettres tous")
    assert "réservée au personnel" in (await eve.next_message()).text
    assert await count_families(runtime) == 0
    async with runtime.database.unit_of_work() as uow:
        assert [
            f
            for f in await uow.repos.imports.families()
            if isinstance(f, Family) and f.number.startswith("2")
        ] == []


async def test_the_group_hears_of_an_import_made_from_the_command_line(
    botapi: BotApiStub,
    bot: Application,
    runtime: Runtime,
    admin_group: FakeGroup,  # type: ignore[type-arg]
) -> None:
    from bot.services.family_import import apply_import

    await apply_import(
        runtime.database,
        runtime.structure,
        to_csv(family_rows(2)),
        "familles.csv",
        today=runtime.today(),
        now=runtime.now(),
        actor_id=None,
        actor_kind="system",
        tell_group=True,
    )
    notice = await admin_group.next_message(timeout=15)
    assert (
        "Familles importées en ligne de commande (familles.csv) : 2 créée(s), 0 mise(s) à jour, 0 inchangée(s)."
        in plain(notice.text)
    )
