"""Tests of the local Bot API stand-in, driven by PTB's own `telegram.Bot`.

They prove the stub understands what PTB really sends (form fields, JSON
encoded objects, multipart uploads) and answers what Telegram answers, so
PTB raises the same exceptions as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import telegram
from aiohttp import web
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.support.botapi import (
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    SECRET_HEADER,
    TINY_PNG,
    BotApiStub,
    FakeUser,
    format_text,
    utf16_len,
)

JEAN = 1001
MARIE = 1002
GROUP = -1001234567890


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    async with BotApiStub() as server:
        yield server


@pytest.fixture
async def bot(stub: BotApiStub) -> AsyncIterator[telegram.Bot]:
    client = telegram.Bot(stub.token, base_url=stub.base_url, base_file_url=stub.base_file_url)
    async with client:
        yield client


@pytest.fixture
def jean(stub: BotApiStub) -> FakeUser:
    return stub.user(JEAN, "Jean", last_name="Dupont", phone_number="+33612345678")


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower())] for label in labels]
    )


def seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


def retry_after(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return seconds(error.retry_after)


# --------------------------------------------------------------------------- HTTP surface


async def test_get_me_answers_the_configured_bot(stub: BotApiStub, bot: telegram.Bot) -> None:
    me = await bot.get_me()

    assert me.username == "PortailFamilleBot"
    assert me.is_bot and me.id == stub.bot_id
    assert stub.base_url.startswith("http://127.0.0.1:")


async def test_wrong_token_is_unauthorized(stub: BotApiStub) -> None:
    intruder = telegram.Bot("42:wrong", base_url=stub.base_url)
    try:
        with pytest.raises(InvalidToken):
            await intruder.initialize()
    finally:
        await intruder.shutdown()

    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{stub.base_url}42:wrong/getMe")
    assert answer.status_code == 401
    assert answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_is_not_found(stub: BotApiStub, bot: telegram.Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": JEAN})

    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{stub.base_url}{stub.token}/sendTelepathy")
    assert answer.status_code == 404
    assert answer.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_methods_are_case_insensitive_and_accept_json_and_query(
    stub: BotApiStub, jean: FakeUser
) -> None:
    markup = {"inline_keyboard": [[{"text": "Oui", "callback_data": "yes"}]]}
    async with httpx.AsyncClient(base_url=f"{stub.base_url}{stub.token}/") as client:
        by_json = await client.post(
            "SENDMESSAGE", json={"chat_id": JEAN, "text": "json", "reply_markup": markup}
        )
        by_query = await client.get("sendmessage", params={"chat_id": str(JEAN), "text": "123"})

    assert by_json.json()["result"]["reply_markup"] == markup
    assert by_query.json()["result"]["text"] == "123"  # text stays a string, never JSON-decoded
    assert [call.method for call in stub.calls()] == ["sendMessage", "sendMessage"]


# --------------------------------------------------------------------------- sending and editing


async def test_send_message_round_trip(stub: BotApiStub, bot: telegram.Bot, jean: FakeUser) -> None:
    first = await bot.send_message(
        JEAN, "<b>Bonjour</b> Jean", parse_mode="HTML", reply_markup=keyboard("Oui", "Non")
    )
    second = await bot.send_message(
        JEAN, "Suite", reply_parameters=ReplyParameters(first.message_id)
    )

    assert first.text == "Bonjour Jean"
    assert first.entities[0].type == "bold" and (
        first.entities[0].offset,
        first.entities[0].length,
    ) == (0, 7)
    assert first.from_user.id == stub.bot_id and first.chat.type == "private"
    assert second.message_id == first.message_id + 1
    assert second.reply_to_message.message_id == first.message_id

    received = await jean.next_message()
    assert received.text == "Bonjour Jean"
    assert received.button_labels == ["Oui", "Non"]
    assert (await jean.next_message()).reply_to_message_id == first.message_id
    call = stub.calls("sendmessage")[0]
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "oui"
    assert call.chat_id == JEAN


async def test_edit_then_identical_edit_is_not_modified(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    sent = await bot.send_message(JEAN, "Choisissez une date", reply_markup=keyboard("Lundi"))
    await bot.edit_message_text("Date choisie : lundi", chat_id=JEAN, message_id=sent.message_id)

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Date choisie : lundi", chat_id=JEAN, message_id=sent.message_id
        )

    assert stub.rejections[-1].description == f"Bad Request: {NOT_MODIFIED}"
    current = jean.last_message()
    assert current.text == "Date choisie : lundi"
    assert current.buttons == []  # an edit without reply_markup drops the keyboard
    assert (await jean.next_message()).text == "Choisissez une date"
    edit = await jean.next_message()
    assert edit.edited and edit.message_id == sent.message_id


async def test_edit_reply_markup_and_missing_messages(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    sent = await bot.send_message(JEAN, "Menu", reply_markup=keyboard("A"))
    await bot.edit_message_reply_markup(JEAN, sent.message_id, reply_markup=keyboard("A", "B"))
    assert jean.last_message().button_labels == ["A", "B"]

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(JEAN, sent.message_id, reply_markup=keyboard("A", "B"))
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=JEAN, message_id=999)
    own = await jean.send("Mon message")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", chat_id=JEAN, message_id=own.message_id)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(4242, "personne")


async def test_text_limit_counts_utf16_after_parsing(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    emoji = "😀"  # two UTF-16 code units
    await bot.send_message(JEAN, "<b>" + emoji * 2048 + "</b>", parse_mode="HTML")

    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(JEAN, emoji * 2048 + "!")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(JEAN, "   \n ")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(JEAN, TINY_PNG, caption="é" * 1025)
    sent = await bot.send_message(JEAN, "court")
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.edit_message_text("x" * 4097, chat_id=JEAN, message_id=sent.message_id)
    assert next(r.description for r in stub.rejections) == "Bad Request: message is too long"


async def test_malformed_markup_is_refused_like_telegram(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    cases = [
        ("<b>Bonjour", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("é <div>x</div>", "HTML", 'Unsupported start tag "div" at byte offset 3'),
        ("<b>a</i>", "HTML", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("1 < 2", "HTML", 'Unsupported start tag "" at byte offset 2'),
        (
            "Version 1.0",
            "MarkdownV2",
            "Character '.' is reserved and must be escaped with the preceding '\\'",
        ),
        ("*gras", "Markdown", "Can't find end of the entity starting at byte offset 0"),
    ]
    for text, mode, detail in cases:
        with pytest.raises(BadRequest):
            await bot.send_message(JEAN, text, parse_mode=mode)
        assert stub.rejections[-1].description == f"Bad Request: can't parse entities: {detail}"

    fine = await bot.send_message(JEAN, "1 &lt; 2 *gras* \\. _ok_", parse_mode="MarkdownV2")
    assert fine.text == "1 &lt; 2 gras . ok"


@pytest.mark.parametrize(
    ("markup", "mode", "text", "entities"),
    [
        ("➡️ ➡️<i>➡️ ➡️</i>", "HTML", "➡️ ➡️➡️ ➡️", [("italic", 5, 5)]),
        ('<pre><code class="language-python">x</code></pre>', "HTML", "x", [("pre", 0, 1)]),
        ('<a href="https://exemple.fr">lien</a>', "HTML", "lien", [("text_link", 0, 4)]),
        ("&amp;&lt;&gt;&quot;&eacute;", "HTML", '&<>"&eacute;', []),
        ("🏟 🏟_abac \\* asd _", "MarkdownV2", "🏟 🏟abac * asd", [("italic", 5, 10)]),
        (
            "||secret|| __souligné__ ~barré~",
            "MarkdownV2",
            "secret souligné barré",
            [("spoiler", 0, 6), ("underline", 7, 8), ("strikethrough", 16, 5)],
        ),
        (">citation\n>suite\nfin", "MarkdownV2", "citation\nsuite\nfin", [("blockquote", 0, 15)]),
        ("[site](https://exemple.fr)", "MarkdownV2", "site", [("text_link", 0, 4)]),
        (
            "*gras* et _italique_",
            "Markdown",
            "gras et italique",
            [("bold", 0, 4), ("italic", 8, 8)],
        ),
    ],
)
def test_markup_parsers_follow_tdlib(
    markup: str, mode: str, text: str, entities: list[tuple[str, int, int]]
) -> None:
    parsed_text, parsed_entities = format_text(markup, mode)

    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed_entities] == entities
    assert utf16_len("🏟") == 2


async def test_inline_keyboard_rules(stub: BotApiStub, bot: telegram.Bot, jean: FakeUser) -> None:
    longest = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="a" * 64)]])
    await bot.send_message(JEAN, "ok", reply_markup=longest)

    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="a" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(JEAN, "non", reply_markup=too_long)
    multibyte = InlineKeyboardMarkup(
        [[InlineKeyboardButton("x", callback_data="é" * 33)]]
    )  # 66 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(JEAN, "non", reply_markup=multibyte)
    text_only = {"inline_keyboard": [[{"text": "rien"}]]}
    with pytest.raises(BadRequest, match=r"(?i)text buttons are not allowed"):
        await bot.send_message(JEAN, "non", reply_markup=text_only)
    crowded = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    )
    with pytest.raises(BadRequest, match="Reply markup is too long"):
        await bot.send_message(JEAN, "non", reply_markup=crowded)
    assert stub.rejections[0].description == "Bad Request: BUTTON_DATA_INVALID"
    assert len(stub.messages(JEAN)) == 1


# --------------------------------------------------------------------------- refusals


async def test_flood_control_raises_retry_after(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    stub.user(MARIE, "Marie")
    stub.set_rate_limits(private_per_second=1)
    await bot.send_message(JEAN, "un")

    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(JEAN, "deux")

    assert retry_after(refused.value) == 1
    assert stub.rejections[-1].error_code == 429
    assert stub.rejections[-1].description == "Too Many Requests: retry after 1"
    await bot.send_message(MARIE, "autre chat")  # the limit is per chat
    await bot.get_me()  # not a sending method
    assert stub.flood_rejections == 1


async def test_group_flood_limit_is_twenty_per_minute(stub: BotApiStub, bot: telegram.Bot) -> None:
    stub.group(GROUP, "Parents CE1")
    for number in range(20):
        await bot.send_message(GROUP, f"annonce {number}")

    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(GROUP, "une de trop")

    assert 1 <= retry_after(refused.value) <= 60
    assert stub.flood.rejections_by_chat[GROUP] == 1
    assert len(stub.messages(GROUP)) == 20


async def test_global_flood_limit(stub: BotApiStub, bot: telegram.Bot) -> None:
    stub.set_rate_limits(global_per_second=3)
    for user_id in (1, 2, 3, 4):
        stub.user(user_id, f"Parent {user_id}")
    for user_id in (1, 2, 3):
        await bot.send_message(user_id, "rappel")

    with pytest.raises(RetryAfter):
        await bot.send_message(4, "rappel")


async def test_blocked_user_is_forbidden(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    stub.block(JEAN)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(JEAN, "Vous êtes là ?")

    assert stub.rejections[-1].description == "Forbidden: bot was blocked by the user"
    await jean.send("/start")  # writing again unblocks
    await bot.send_message(JEAN, "Re-bonjour")
    silent = stub.user(MARIE, "Marie", started=False)
    with pytest.raises(Forbidden, match="initiate conversation"):
        await bot.send_message(silent.id, "Bonjour")


# --------------------------------------------------------------------------- files


async def test_document_upload_then_download(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    content = b"%PDF-1.4 facture de cantine \x00\xff"
    sent = await bot.send_document(
        JEAN, content, filename="facture-mars.pdf", caption="Votre facture"
    )

    assert sent.document.file_name == "facture-mars.pdf"
    assert sent.document.mime_type == "application/pdf"
    assert sent.caption == "Votre facture"
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content
    again = await bot.send_document(JEAN, sent.document.file_id)
    assert again.document.file_id == sent.document.file_id
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_document(JEAN, "no-such-file-id")


async def test_user_files_can_be_fetched_by_the_bot(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    await jean.send_document(b"certificat medical", "certificat.pdf", "application/pdf")
    await jean.send_photo(TINY_PNG)

    updates = await bot.get_updates(timeout=0)
    document, photo = updates[0].message.document, updates[1].message.photo[-1]
    assert (
        bytes(await (await bot.get_file(document.file_id)).download_as_bytearray())
        == b"certificat medical"
    )
    assert bytes(await (await bot.get_file(photo.file_id)).download_as_bytearray()) == TINY_PNG


# --------------------------------------------------------------------------- updates


async def test_get_updates_offset_limit_and_confirmation(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    assert await bot.get_updates(timeout=0) == ()
    for text in ("un", "deux", "trois"):
        await jean.send(text)

    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first] == ["un", "deux", "trois"]
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [
        u.update_id for u in first
    ]  # not confirmed yet
    assert [
        u.message.text for u in await bot.get_updates(offset=first[1].update_id, timeout=0)
    ] == ["deux", "trois"]
    assert [
        u.message.text for u in await bot.get_updates(offset=first[1].update_id, limit=1, timeout=0)
    ] == ["deux"]
    assert [u.message.text for u in await bot.get_updates(offset=-1, timeout=0)] == ["trois"]
    assert await bot.get_updates(offset=first[2].update_id + 1, timeout=0) == ()


async def test_long_poll_waits_then_returns_early(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert loop.time() - started >= 0.9  # the timeout is honoured

    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()  # still waiting: nothing queued
    await jean.send("Bonjour")
    updates = await asyncio.wait_for(poll, timeout=2)
    assert [u.message.text for u in updates] == ["Bonjour"]


async def test_a_second_poller_terminates_the_first(stub: BotApiStub, bot: telegram.Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient() as client:
        second = await client.post(f"{stub.base_url}{stub.token}/getUpdates", data={"timeout": "0"})

    assert second.json() == {"ok": True, "result": []}
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, timeout=2)


async def test_callback_query_can_be_answered_only_once(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    sent = await bot.send_message(JEAN, "Confirmer ?", reply_markup=keyboard("Oui", "Non"))
    query_id = await jean.tap(await jean.next_message(), "Oui")

    (update,) = await bot.get_updates(timeout=0)
    assert update.callback_query.id == query_id
    assert update.callback_query.data == "oui"
    assert update.callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query_id, text="Merci")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123456")
    assert stub.rejections[-1].description == f"Bad Request: {QUERY_TOO_OLD}"
    assert (await stub.wait_callback_answer(query_id))["text"] == "Merci"


# --------------------------------------------------------------------------- the driver


async def test_driver_reports_missing_buttons_and_unexpected_messages(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    await bot.send_message(JEAN, "Menu", reply_markup=keyboard("Réserver", "Absences"))
    menu = await jean.next_message()

    with pytest.raises(AssertionError, match=r"No button 'Factures'.*Réserver.*Absences"):
        await jean.tap(menu, "Factures")
    await jean.expect_silence(0.05)
    await bot.send_message(JEAN, "Imprévu")
    with pytest.raises(AssertionError, match="Expected silence"):
        await jean.expect_silence(1)
    with pytest.raises(AssertionError, match="nothing in chat 1001"):
        await jean.next_message(timeout=0.05)


async def test_injected_failures_and_next_call(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    stub.fail_next("sendmessage", 502, "Bad Gateway")

    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(JEAN, "perdu")
    await bot.send_message(JEAN, "retrouvé")

    call = await stub.next_call("sendMessage", chat_id=JEAN)
    assert call.params["text"] == "retrouvé"
    with pytest.raises(AssertionError, match="No sendMessage"):
        await stub.next_call("sendMessage", timeout=0.05)
    assert [m.text for m in jean.messages()] == ["retrouvé"]


async def test_reply_keyboard_contact_and_commands(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    share = KeyboardButton("Partager mon numéro", request_contact=True)
    request_phone = ReplyKeyboardMarkup([[share]], one_time_keyboard=True)
    await bot.send_message(JEAN, "Votre numéro ?", reply_markup=request_phone)
    assert jean.keyboard == ["Partager mon numéro"]

    await jean.press("Partager mon numéro")
    await jean.send_command("/start", "CODE42")
    contact_update, command_update = await bot.get_updates(timeout=0)

    assert jean.keyboard is None  # one-time keyboards hide once used
    assert contact_update.message.contact.phone_number == "+33612345678"
    assert contact_update.message.contact.user_id == JEAN
    assert command_update.message.text == "/start CODE42"
    assert command_update.message.entities[0].type == "bot_command"


async def test_group_members_replies_and_other_methods(
    stub: BotApiStub, bot: telegram.Bot, jean: FakeUser
) -> None:
    group = stub.group(GROUP, "Parents CE1")
    stub.owners[GROUP] = MARIE
    stub.admins[GROUP] = [JEAN]
    announce = await bot.send_message(GROUP, "Sortie scolaire vendredi")
    await jean.reply_to(await group.next_message(), "Merci !")

    (update,) = await bot.get_updates(timeout=0)
    assert update.message.chat.title == "Parents CE1" and update.message.chat.type == "supergroup"
    assert update.message.reply_to_message.message_id == announce.message_id
    admins = await bot.get_chat_administrators(GROUP)
    assert [(a.user.id, a.status) for a in admins] == [(MARIE, "creator"), (JEAN, "administrator")]
    assert (await bot.get_chat_member(GROUP, 555)).status == "left"
    copied = await bot.copy_message(JEAN, GROUP, announce.message_id)
    forwarded = await bot.forward_message(JEAN, GROUP, announce.message_id)
    assert stub.chat(JEAN).messages[copied.message_id].data["text"] == "Sortie scolaire vendredi"
    assert forwarded.forward_origin.sender_user.id == stub.bot_id
    assert await bot.send_chat_action(JEAN, "typing") and jean.actions == ["typing"]
    assert await bot.delete_message(GROUP, announce.message_id)
    assert group.messages() == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(GROUP, announce.message_id)
    assert await bot.set_my_commands([("start", "Commencer"), ("aide", "Aide")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "aide"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Start!", "mauvais")])


# --------------------------------------------------------------------------- a real Application


async def test_application_story_over_long_polling(stub: BotApiStub, jean: FakeUser) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        code = context.args[0] if context.args else "?"
        name = update.effective_user.first_name
        await update.message.reply_text(
            f"Bienvenue {name} ! Code : {code}", reply_markup=keyboard("Continuer")
        )

    async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("C'est parti")
        await update.callback_query.edit_message_text("Inscription confirmée")

    application = (
        Application.builder()
        .token(stub.token)
        .base_url(stub.base_url)
        .base_file_url(stub.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(tapped))

    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=5)
        try:
            await jean.send_command("/start", "ABC123")
            welcome = await jean.next_message()
            assert welcome.text == "Bienvenue Jean ! Code : ABC123"
            assert welcome.button_labels == ["Continuer"]

            query_id = await jean.tap(welcome, "Continuer")
            confirmed = await jean.next_message()
            assert confirmed.edited and confirmed.message_id == welcome.message_id
            assert confirmed.text == "Inscription confirmée" and confirmed.buttons == []
            assert (await stub.wait_callback_answer(query_id))["text"] == "C'est parti"
        finally:
            await application.updater.stop()
            await application.stop()

    assert stub.rejections == []
    assert [c.method for c in stub.calls() if c.method != "getUpdates"][:1] == ["getMe"]


async def test_held_calls_hang_after_the_first_ones_and_are_never_carried_out(
    stub: BotApiStub, bot: telegram.Bot
) -> None:
    stub.user(JEAN)
    stub.hold("sendMessage", chat_id=JEAN, after=1)
    await bot.send_message(JEAN, "passes")
    held = asyncio.create_task(bot.send_message(JEAN, "hangs"))
    await stub.wait_held(1, timeout=5)
    assert not held.done()
    stub.release()
    with pytest.raises(NetworkError):
        await held
    assert [m.text for m in stub.messages(JEAN)] == ["passes"]
    await bot.send_message(JEAN, "after the release")
    assert stub.held == 0 and len(stub.messages(JEAN)) == 2


# --------------------------------------------------------------------------- many bots, one server


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Waits until ``condition()`` holds (fails after ``timeout`` seconds)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
def communes(stub: BotApiStub) -> tuple[BotApiStub, BotApiStub, BotApiStub]:
    """Three bots (three structures' tokens) on the one server of `stub`."""
    return stub, stub.add_bot(username="CommuneBBot"), stub.add_bot(username="CommuneCBot")


@pytest.fixture
async def clients(
    communes: tuple[BotApiStub, ...],
) -> AsyncIterator[list[telegram.Bot]]:
    """A PTB client per bot, all pointed at the same base URL."""
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                telegram.Bot(bot.token, base_url=bot.base_url, base_file_url=bot.base_file_url)
            )
            for bot in communes
        ]


async def test_bots_sharing_a_server_each_answer_their_own_get_me(
    communes: tuple[BotApiStub, ...], clients: list[telegram.Bot]
) -> None:
    assert {bot.base_url for bot in communes} == {communes[0].base_url}
    assert {bot.base_file_url for bot in communes} == {communes[0].base_file_url}
    assert len({bot.token for bot in communes}) == 3

    answers = [await client.get_me() for client in clients]

    assert [(me.id, me.username) for me in answers] == [
        (bot.bot_id, bot.username) for bot in communes
    ]
    assert [me.username for me in answers] == ["PortailFamilleBot", "CommuneBBot", "CommuneCBot"]
    assert communes[0].bots == list(communes) and communes[2].server is communes[0]


async def test_a_bot_added_with_a_taken_token_or_username_is_refused(stub: BotApiStub) -> None:
    with pytest.raises(ValueError, match="already served"):
        BotApiStub(stub.token, server=stub)
    with pytest.raises(ValueError, match="already a bot"):
        stub.add_bot(username=stub.username.upper())
    explicit = BotApiStub("7000000042:AAExplicit", username="ExplicitBot", server=stub)
    assert explicit.server is stub and explicit.bot_id == 7000000042
    assert explicit.base_url == stub.base_url


async def test_each_bot_of_a_server_has_its_own_chats_messages_and_updates(
    communes: tuple[BotApiStub, ...], clients: list[telegram.Bot]
) -> None:
    first, second, third = communes
    jean = first.user(JEAN, "Jean", last_name="Dupont", phone_number="+33612345678")
    jean_second = second.same_user(jean)
    assert jean_second is not jean and jean_second.id == jean.id == JEAN
    assert (jean_second.last_name, jean_second.phone_number) == ("Dupont", "+33612345678")
    assert second.same_user(jean) is jean_second

    await clients[0].send_message(JEAN, "de la commune A")
    await clients[1].send_message(JEAN, "de la commune B")
    with pytest.raises(BadRequest, match="Chat not found"):
        await clients[2].send_message(JEAN, "jamais écrit à C")

    assert [m.text for m in first.messages(JEAN)] == ["de la commune A"]
    assert [m.text for m in second.messages(JEAN)] == ["de la commune B"]
    assert (await jean_second.next_message()).text == "de la commune B"
    assert third.calls("sendMessage") == [] and third.rejections[-1].error_code == 400

    await jean_second.send("réponse à B")
    assert await clients[0].get_updates(timeout=0) == ()
    updates = await clients[1].get_updates(timeout=0)
    assert [(u.update_id, u.message and u.message.text) for u in updates] == [(1, "réponse à B")]
    assert updates[0].effective_chat and updates[0].effective_chat.id == JEAN
    assert await clients[2].get_updates(timeout=0) == ()


async def test_the_same_person_may_not_have_started_another_bot(
    communes: tuple[BotApiStub, ...], clients: list[telegram.Bot]
) -> None:
    jean = communes[0].user(JEAN, "Jean")
    silent = communes[1].same_user(jean, started=False)
    await clients[0].send_message(JEAN, "Bonjour")

    with pytest.raises(Forbidden, match="initiate conversation"):
        await clients[1].send_message(JEAN, "Bonjour")

    await silent.send("/start")
    await clients[1].send_message(JEAN, "Bonjour")
    assert len(communes[1].messages(JEAN)) == 1


async def test_unknown_and_revoked_tokens_are_unauthorized_on_a_shared_server(
    communes: tuple[BotApiStub, ...], clients: list[telegram.Bot]
) -> None:
    first, second, third = communes
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{first.base_url}7000000099:AAUnknown/getMe")
        assert unknown.status_code == 401
        assert unknown.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

        poll = asyncio.create_task(clients[1].get_updates(timeout=30))
        await until(lambda: second._poll_generation == 1)  # the poll is pending
        second.revoke()
        assert await asyncio.wait_for(poll, 5) == ()  # the pending poll ends at once
        revoked = await client.post(f"{first.base_url}{second.token}/getMe")
        assert revoked.status_code == 401
    with pytest.raises(InvalidToken):
        await clients[1].get_me()
    assert (await clients[2].get_me()).username == third.username
    assert first.bots == [first, third]
    with pytest.raises(ValueError, match="cannot be revoked"):
        first.revoke()


async def test_a_flood_wait_of_one_bot_leaves_the_other_bots_sending(
    communes: tuple[BotApiStub, ...], clients: list[telegram.Bot]
) -> None:
    for bot in communes:
        bot.user(JEAN, "Jean")
    communes[1].flood_wait(30)

    with pytest.raises(RetryAfter) as refused:
        await clients[1].send_message(JEAN, "rappel B")
    for client in (clients[0], clients[2]):
        await client.send_message(JEAN, "rappel")
    with pytest.raises(RetryAfter):
        await clients[1].send_message(JEAN, "rappel B, encore")

    assert 1 <= retry_after(refused.value) <= 30
    assert [bot.flood_rejections for bot in communes] == [0, 2, 0]
    assert communes[1].rejections[-1].description.startswith("Too Many Requests: retry after")
    assert [len(bot.messages(JEAN)) for bot in communes] == [1, 0, 1]
    communes[1].end_flood_wait()
    await clients[1].send_message(JEAN, "rappel B, enfin")
    assert [m.text for m in communes[1].messages(JEAN)] == ["rappel B, enfin"]


async def test_rate_limits_and_injected_failures_are_per_bot(
    communes: tuple[BotApiStub, ...], clients: list[telegram.Bot]
) -> None:
    for bot in communes:
        for user_id in (1, 2):
            bot.user(user_id, f"Parent {user_id}")
    communes[0].set_rate_limits(global_per_second=1)
    communes[2].fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)

    await clients[0].send_message(1, "un")
    with pytest.raises(RetryAfter):
        await clients[0].send_message(2, "deux")  # over the first bot's limit of 1/s
    for user_id in (1, 2):
        await clients[1].send_message(user_id, "la limite de A ne compte pas ici")
    with pytest.raises(RetryAfter) as injected:
        await clients[2].send_message(1, "refusé une fois")
    await clients[2].send_message(1, "puis accepté")

    assert retry_after(injected.value) == 7
    assert [len(bot.calls("sendMessage")) for bot in communes] == [1, 2, 1]
    assert [len(bot.rejections) for bot in communes] == [1, 0, 1]


async def test_files_of_one_bot_are_not_readable_with_another_token(
    communes: tuple[BotApiStub, ...], clients: list[telegram.Bot]
) -> None:
    first, second, _ = communes
    first.user(JEAN, "Jean")
    second.user(JEAN, "Jean")
    sent = (await clients[0].send_document(JEAN, b"facture A", filename="facture.pdf")).document
    assert sent is not None
    path = (await clients[0].get_file(sent.file_id)).file_path
    assert path is not None and path.startswith(first.base_file_url + first.token + "/")
    relative = path.removeprefix(first.base_file_url + first.token + "/")

    with pytest.raises(BadRequest, match="Wrong file_id"):
        await clients[1].get_file(sent.file_id)
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await clients[1].send_document(JEAN, sent.file_id)
    own = (await clients[1].send_document(JEAN, b"facture B", filename="facture.pdf")).document
    assert own is not None
    async with httpx.AsyncClient() as client:
        theirs = await client.get(f"{first.base_file_url}{second.token}/{relative}")
        unknown = await client.get(f"{first.base_file_url}7000000099:AAUnknown/{relative}")
        mine = await client.get(path)

    assert theirs.status_code == 404 and unknown.status_code == 404
    assert mine.content == b"facture A"
    assert own.file_id != sent.file_id
    assert second.file_content(own.file_id) == b"facture B"
    assert sent.file_id not in second.files


async def test_stopping_the_server_stops_every_bot_and_a_bot_stops_alone(
    communes: tuple[BotApiStub, ...], clients: list[telegram.Bot]
) -> None:
    first, second, third = communes
    poll_third = asyncio.create_task(clients[2].get_updates(timeout=30))
    await until(lambda: third._poll_generation == 1)

    await second.stop()  # only its own polls and webhook: the server goes on
    assert (await clients[0].get_me()).id == first.bot_id
    assert not poll_third.done()
    await second.start()
    assert (await clients[1].get_me()).id == second.bot_id

    await first.stop()
    assert await asyncio.wait_for(poll_third, 5) == ()
    with pytest.raises(NetworkError):
        await clients[1].get_me()


async def test_applications_of_several_bots_poll_one_server_each_with_its_token(
    communes: tuple[BotApiStub, ...],
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"Bienvenue chez {context.bot.username}")

    applications: list[Application[Any, Any, Any, Any, Any, Any]] = []
    for bot in communes:
        application = (
            Application.builder()
            .token(bot.token)
            .base_url(bot.base_url)
            .base_file_url(bot.base_file_url)
            .build()
        )
        application.add_handler(CommandHandler("start", start))
        applications.append(application)
    jean = communes[0].user(JEAN, "Jean")
    people = [jean, communes[1].same_user(jean), communes[2].same_user(jean)]

    async with contextlib.AsyncExitStack() as stack:
        for application in applications:
            await stack.enter_async_context(application)
            await application.start()
            stack.push_async_callback(application.stop)
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=5)
            stack.push_async_callback(application.updater.stop)
        for person in reversed(people):
            await person.send_command("/start")
        welcomes = [(await person.next_message()).text for person in people]

    assert welcomes == [f"Bienvenue chez {bot.username}" for bot in communes]
    assert all(bot.rejections == [] for bot in communes)


async def test_webhooks_are_per_bot_each_with_its_url_and_secret(
    communes: tuple[BotApiStub, ...], clients: list[telegram.Bot]
) -> None:
    received: list[tuple[str, str | None, int]] = []

    async def receive(request: web.Request) -> web.Response:
        update = await request.json()
        received.append(
            (request.match_info["slug"], request.headers.get(SECRET_HEADER), update["update_id"])
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/telegram/{slug}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        for client, slug in zip(clients[:2], ("a", "b"), strict=True):
            await client.set_webhook(
                f"http://127.0.0.1:{port}/telegram/{slug}", secret_token=f"secret-{slug}"
            )
        jean = communes[0].user(JEAN, "Jean")
        await communes[1].same_user(jean).send("à B")
        await communes[1].wait_for_delivery()
        await jean.send("à A")
        await communes[0].wait_for_delivery()
        await communes[2].same_user(jean).send("à C, sans webhook")

        assert received == [("b", "secret-b", 1), ("a", "secret-a", 1)]
        infos = [await client.get_webhook_info() for client in clients]
        assert [info.url.rsplit("/", 1)[-1] for info in infos] == ["a", "b", ""]
        polled = await clients[2].get_updates(timeout=0)
        assert [u.message and u.message.text for u in polled] == ["à C, sans webhook"]
    finally:
        await runner.cleanup()
