"""Pointage from a phone: two staff tick the same list, the family hears of the no-show."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import callbacks
from bot.domain.model import DayStatus
from bot.runtime import Runtime
from bot.services.attendance import Mode, PointageRow, PointageView
from conversations.staff.attendance import list_keyboard
from storage.models import DayEntry
from tests.conversations.conftest import DUPONT
from tests.conversations.test_planning import open_child_month
from tests.support.botapi import BotApiStub, ChatMessage, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")

TUESDAY = dt.date(2026, 11, 24)
PARIS = ZoneInfo("Europe/Paris")


async def _book_evening(runtime: Runtime) -> dict[str, int]:
    async with runtime.database.unit_of_work() as uow:
        dupont = await uow.repos.families.get_by_number(DUPONT)
        assert dupont is not None
        soir = await uow.repos.structure.service_by_code("garderie_soir")
        assert soir is not None
        children = {c.first_name: c.id for c in await uow.repos.families.children(dupont.id)}
        for child_id in children.values():
            uow.session.add(
                DayEntry(
                    child_id=child_id,
                    service_id=soir.id,
                    family_id=dupont.id,
                    day=TUESDAY,
                    status=DayStatus.RESERVED,
                )
            )
        await uow.commit()
        return children


def _tap_data(message: ChatMessage, action: str, child_id: int | None = None) -> str:
    for row in message.buttons:
        for button in row:
            parsed = callbacks.parse(button.get("callback_data"))
            if parsed is None or parsed.action != action:
                continue
            if child_id is None or parsed.int_arg(1) == child_id:
                return str(button["callback_data"])
    raise AssertionError(f"no {action} button for {child_id}")


def _ticked(message: ChatMessage, child_id: int) -> bool:
    for row in message.buttons:
        for button in row:
            parsed = callbacks.parse(button.get("callback_data"))
            if (
                parsed
                and parsed.action == callbacks.ATTENDANCE_TAP
                and parsed.int_arg(1) == child_id
            ):
                return str(button["text"]).startswith("✅")
    raise AssertionError(f"child {child_id} not on the list")


async def _until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_two_staff_ticking_the_same_list_see_each_others_ticks_and_a_no_show_is_told(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    paul: FakeUser,
    runtime: Runtime,
    link: Any,
    clock: Any,
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    children = await _book_evening(runtime)
    clock.now = dt.datetime(2026, 11, 24, 15, 35, tzinfo=dt.UTC)  # 16:35 in Paris

    await claire.send_command("/pointage", chat=admin_group)
    group_list = await admin_group.next_message()
    await paul.send_command("/pointage", "garderie_soir")
    private_list = await paul.next_message()
    assert "Garderie soir" in (group_list.text or "")
    assert not _ticked(group_list, children["LUCAS"])

    await claire.tap(group_list, _tap_data(group_list, callbacks.ATTENDANCE_TAP, children["LUCAS"]))

    # Paul's list is edited (not posted again) with Claire's tick.
    await _until(
        lambda: (
            (m := paul.last_message()) is not None
            and m.message_id == private_list.message_id
            and _ticked(m, children["LUCAS"])
        )
    )
    assert len(paul.messages()) == 1

    forged = callbacks.build(
        callbacks.ATTENDANCE_TAP, group_list_session(group_list), 999999, 0, "t"
    )
    await claire.tap_data(group_list, forged)  # a child not on the list: politely refused

    latest = admin_group.last_message()
    assert latest is not None
    await claire.tap(latest, _tap_data(latest, callbacks.ATTENDANCE_CLOSE))
    await _until(
        lambda: any(
            callbacks.parse(b.get("callback_data")) is not None
            and callbacks.parse(b.get("callback_data")).arg(1) == "yes"  # type: ignore[union-attr]
            for row in (admin_group.last_message() or group_list).buttons
            for b in row
        )
    )
    confirm = admin_group.last_message()
    assert confirm is not None
    await claire.tap(
        confirm, callbacks.build(callbacks.ATTENDANCE_CLOSE, group_list_session(group_list), "yes")
    )

    notice = await jean.next_message()
    assert "EMMA était attendue (Garderie soir" in (notice.text or "")
    # The parents' calendar, the next time they open it: 🟢 présent, 💶 absent facturé.
    await jean.send_command("/accueil")
    await jean.next_message()
    lucas_month = await open_child_month(jean, "LUCAS")
    assert "[24🟢]" in lucas_month.button_labels  # today, présent
    await jean.send_command("/accueil")
    await jean.next_message()
    assert "[24💶]" in (await open_child_month(jean, "EMMA")).button_labels  # absent facturé
    async with runtime.database.unit_of_work() as uow:
        soir = await uow.repos.structure.service_by_code("garderie_soir")
        assert soir is not None
        statuses = {
            e.child_id: e.status for e, _c in await uow.repos.attendance.entries(soir.id, TUESDAY)
        }
    assert statuses == {
        children["LUCAS"]: DayStatus.PRESENT,
        children["EMMA"]: DayStatus.ABSENT_BILLED,
    }


def group_list_session(message: ChatMessage) -> int:
    data = callbacks.parse(_tap_data(message, callbacks.ATTENDANCE_ALL))
    assert data is not None
    session = data.int_arg(0)
    assert session is not None
    return session


async def test_a_contract_typed_by_staff_shows_regular_days_in_the_parents_calendar(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, link: Any
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)

    await claire.send_command(
        "/contrat", "1001001818331 LUCAS garderie_matin lun,mar,jeu", chat=admin_group
    )

    answer = await admin_group.next_message()
    assert "🔁 LUCAS — Garderie matin" in (answer.text or "") and "lun, mar, jeu" in (
        answer.text or ""
    )
    await jean.send_command("/accueil")
    await jean.next_message()
    labels = (await open_child_month(jean, "LUCAS")).button_labels
    assert [label for label in labels if label.endswith("🔁")] == ["24🔁", "26🔁", "30🔁"]


def _rows(count: int) -> PointageView:
    return PointageView(
        session_id=123456789,
        service_code="garderie_soir",
        service_name="Garderie soir",
        day=TUESDAY,
        closed=False,
        rows=tuple(
            PointageRow(
                child_id=10_000_000 + index,
                first_name=f"ENFANT{index:03d}",
                last_name="AVEC UN NOM DE FAMILLE TRÈS LONG COMME IL EN EXISTE",
                present=index % 2 == 0,
                planned=DayStatus.RESERVED,
                allergy=index % 3 == 0,
                pai=index % 5 == 0,
            )
            for index in range(count)
        ),
    )


@pytest.mark.parametrize("mode", [Mode.TICK, Mode.DEPARTURE])
def test_a_long_list_pages_within_telegrams_limits(mode: Mode) -> None:
    view = _rows(250)
    seen: list[int] = []
    for page in range(4):
        keyboard = list_keyboard(view, PARIS, page, mode)
        buttons = [button for row in keyboard.inline_keyboard for button in row]
        assert len(buttons) <= 100
        assert all(len(str(b.callback_data).encode()) <= 64 for b in buttons)
        assert all(len(b.text) <= 64 for b in buttons)
        for button in buttons:
            parsed = callbacks.parse(str(button.callback_data))
            assert parsed is not None
            if parsed.action == callbacks.ATTENDANCE_TAP:
                seen.append(parsed.int_arg(1) or 0)
    assert seen == [row.child_id for row in view.rows]  # every child once, in order
