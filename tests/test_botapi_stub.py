"""Tests of the local Bot API stand-in, driven by PTB's own `telegram.Bot`.

They prove the stub understands what PTB really sends (form fields, JSON
encoded objects, multipart uploads) and answers what Telegram answers, so
PTB raises the same exceptions as in production.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings
from collections.abc import AsyncIterator

import httpx
import pytest
import telegram
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
