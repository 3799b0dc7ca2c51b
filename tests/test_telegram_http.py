"""The Bot API connection: same JSON as python-telegram-bot would send, errors as it raises them."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram_http import AiohttpRequest, plain_keyboard, without_keyboards


def month_like_keyboard() -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(f"{day} 🟦", callback_data=f"pd:12:202612{day:02d}") for day in week]
        for week in ([1, 2, 3, 4, 5, 6, 7], [8, 9, 10])
    ]
    rows.append([InlineKeyboardButton("Portail", url="https://portail.example.fr")])
    rows.append([InlineKeyboardButton("Copier", copy_text=CopyTextButton("9000000000001"))])
    return InlineKeyboardMarkup(rows)


def test_a_plain_keyboard_is_sent_exactly_as_python_telegram_bot_would_send_it() -> None:
    keyboard = month_like_keyboard()
    assert plain_keyboard(keyboard).to_dict() == keyboard.to_dict()  # type: ignore[union-attr]
    assert plain_keyboard(None) is None


def test_keyboards_nobody_reads_are_dropped_from_what_telegram_answers() -> None:
    keyboard = month_like_keyboard().to_dict()
    update = {
        "update_id": 7,
        "callback_query": {
            "id": "1",
            "data": "pd:1",
            "message": {"message_id": 3, "reply_markup": keyboard},
        },
    }
    edited = {"message_id": 3, "text": "Planning", "reply_markup": keyboard}
    assert without_keyboards([update, edited]) == [
        {
            "update_id": 7,
            "callback_query": {"id": "1", "data": "pd:1", "message": {"message_id": 3}},
        },
        {"message_id": 3, "text": "Planning"},
    ]
    assert without_keyboards(True) is True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_parameters_go_as_json_and_a_slow_server_is_a_timeout() -> None:
    received: list[object] = []

    async def answer(request: web.Request) -> web.Response:
        received.append(await request.json())
        if request.path.endswith("slow"):
            await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{method}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    request = AiohttpRequest(read_timeout=0.5)
    await request.initialize()
    try:
        data = RequestData([RequestParameter.from_input("reply_markup", month_like_keyboard())])
        assert await request.post(f"http://127.0.0.1:{port}/fast", data) is True
        assert received[0] == {"reply_markup": month_like_keyboard().to_dict()}
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/slow", RequestData([]))
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_a_server_that_is_not_there_is_a_network_error() -> None:
    request = AiohttpRequest(connect_timeout=1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{free_port()}/getMe", RequestData([]))
    finally:
        await request.shutdown()
