"""After /deconnexion, every kind of button left on a parent's old messages says the account is
no longer linked and how to link it again: no "Désolé, une erreur est survenue", no screen of
the family, no "formulaire fermé" that hides why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from storage.models import AuthorizedPerson, Document, Invoice
from tests.conversations.conftest import DUPONT
from tests.support.botapi import BotApiStub, FakeUser

pytestmark = pytest.mark.usefixtures("bot")

Link = Callable[[FakeUser], Awaitable[None]]
DAY = dt.date(2026, 12, 9)  # a Wednesday two weeks after the tests' Monday 23 November 2026

# One button of each kind a parent's screens show (bot/callbacks.py), with the ids of the
# DUPONT family's own objects: what an old message of Jean's still carries once logged out.
OLD_BUTTONS = [
    "home",
    "menu:planning",
    "menu:account",
    "menu:children",
    "menu:statement",
    "menu:inbox",
    "menu:requests",
    "menu:documents",
    "pm:{emma}:202612",
    "pm:0:202612",
    "pd:{emma}:{day}",
    "pa:b:{emma}:{cantine}:{day}",
    "pa:c:{emma}:{cantine}:{day}",
    "pa:a:{emma}:{cantine}:{day}",
    "pr:i:0:{emma}:{cantine}:{day}",
    "pr:o:0:{emma}:{cantine}:{day}",
    "pp:{emma36}:0:0",
    "pv:{emma36}:4:{cantine36}",
    "pg:b:{cantine}:{day}:0",
    "st:2026",
    "sti:2026",
    "stp:2026",
    "ivp:{invoice}",
    "ivy:{invoice}",
    "att:2026",
    "tar",
    "ma:c",
    "ma:r",
    "fs:responsable:0",
    "fs:add_child:0",
    "fe:{emma}:{cantine}",
    "ff:{token}:0",
    "fc:{token}:0:0",
    "fo:{token}",
    "fk:{token}",
    "fb:{token}",
    "fx:{token}",
    "kc:0",
    "kc:{emma}",
    "ka:{emma}",
    "kr:{emma}:{person}",
    "kq:{emma}:{person}",
    "kh:{emma}",
    "ke:{emma}",
    "rl:all:1",
    "rp:all:1:0",
    "dc:{document}",
    "dp:{emma}",
    "md",
    "pf:1",
    "rt:booking:0",
    "rs:{cantine}:0",
    "ib:rcv:0",
    "ib:snt:0",
    "ib:write:0",
    "ib:open:1",
]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


async def _ids(runtime: Runtime) -> dict[str, str]:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        assert family is not None
        emma = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "EMMA"
        )
        cantine = await uow.repos.structure.service_by_code("cantine")
        assert cantine is not None
        invoice = await uow.repos.accounts.invoice_by_number("AL-36")
        person = (
            await uow.session.execute(
                select(AuthorizedPerson.id).where(AuthorizedPerson.child_id == emma.id)
            )
        ).scalar()
        document = (await uow.session.execute(select(Document.id))).scalar()
        invoice_id = invoice.id if isinstance(invoice, Invoice) else 1
    return {
        "emma": str(emma.id),
        "emma36": _base36(emma.id),
        "cantine": str(cantine.id),
        "cantine36": _base36(cantine.id),
        "day": DAY.strftime("%Y%m%d"),
        "invoice": str(invoice_id),
        "person": str(person or 1),
        "document": str(document or 1),
    }


async def _open_form(jean: FakeUser) -> str:
    """Jean starts changing his contact details: the form's buttons carry its draft's token."""
    home = jean.last_message()
    assert home is not None
    await jean.tap_data(home, "fs:responsable:0")
    form = await jean.next_message()
    return str(
        next(
            b["callback_data"].split(":")[1]
            for row in form.buttons
            for b in row
            if b.get("callback_data", "").startswith("ff:")
        )
    )


@pytest.mark.parametrize("template", OLD_BUTTONS)
async def test_an_old_button_after_logging_out_says_the_account_is_no_longer_linked(
    botapi: BotApiStub, link: Link, runtime: Runtime, template: str
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    old = jean.last_message()  # the home screen, kept in the chat
    assert old is not None
    token = await _open_form(jean)
    data = template.format(**await _ids(runtime), token=token)
    await jean.send_command("/deconnexion")
    await jean.tap(await jean.next_message(), "Oui, me déconnecter")
    assert "déconnecté" in (await jean.next_message()).text

    query = await jean.tap_data(old, data)
    answer = (await botapi.wait_callback_answer(query)).get("text") or ""
    try:
        said = (await jean.next_message(timeout=2.0)).text
    except AssertionError:
        said = ""  # told in the button's answer alone
    told = f"{answer}\n{said}"
    assert "Désolé" not in told, (data, told)
    assert "relié" in told and "invitation" in told, (data, told)  # not linked, and how to link
    assert "DUPONT" not in told and "EMMA" not in told, (data, told)  # nothing of the family
    await jean.expect_silence(0.2)
