"""Request cards in the admin group: posting them (grouped when many arrive), opening them,
and `/demandes`.

Other features call `post_request_card` right after committing a new request. The card shows
the family, the child, what is asked (current value beside the requested one), the proof when
one is attached, and ✅ Accepter / ❌ Refuser (handled in `conversations.staff.decisions`).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.i18n import _
from bot.runtime import Runtime, get_runtime
from bot.services.request_cards import (
    NOT_POSTABLE,
    RequestCard,
    cards_of,
    digest_reference,
    has_unposted,
    pending_cards,
    record_card_message,
    request_card,
    unposted_ids,
)
from conversations.staff import outbox as outbox_module
from conversations.staff.common import Context, in_admin_chat, staff_action, staff_language
from conversations.staff.outbox import DIGEST_SETTLE_SECONDS, DIGEST_SIZE, INDIVIDUAL_RESERVE, RETRY_SECONDS, AdminOutbox
from conversations.staff.render import (
    CAPTION_LIMIT,
    already_decided_text,
    attachment_caption,
    card_keyboard,
    card_text,
    digest_keyboard,
    digest_text,
    open_buttons,
    pending_list_text,
)

logger = logging.getLogger(__name__)

PENDING_SHOWN = 25
_TRANSIENT = (NetworkError, TimedOut, RetryAfter)


async def post_request_card(bot: Any, runtime: Runtime, request_id: int) -> None:
    """Show a newly committed request to the staff, in the admin group.

    Call it right after committing the request (e.g. `await post_request_card(context.bot,
    get_runtime(context), request.id)`). The card goes out at once while the group is quiet;
    during a burst it is grouped with others a moment later. It never raises for Telegram
    trouble: a request not shown yet stays queued in the database and is posted later.
    """
    try:
        await outbox_module.flush(bot, runtime, scheduled=False)
    except Exception as exc:  # noqa: BLE001 - the parent's dialogue must go on; the card is retried
        logger.error("could not post the card of request %s: %s", request_id, type(exc).__name__)
        outbox_module.get_outbox(runtime).schedule(RETRY_SECONDS)


async def flush_cards(bot: Any, runtime: Runtime, outbox: AdminOutbox, *, scheduled: bool) -> None:
    """Post waiting requests: a card when only one waits and the budget is easy, else a digest."""
    chat_id = runtime.settings.admin_chat_id
    if chat_id is None:
        return
    async with runtime.database.unit_of_work() as uow:
        waiting = await unposted_ids(uow, limit=DIGEST_SIZE * 3 if scheduled else 2)
    if not waiting:
        return
    budget = outbox.budget
    threshold = 0 if scheduled else INDIVIDUAL_RESERVE
    if len(waiting) == 1 and budget.free() > threshold:
        async with runtime.database.unit_of_work() as uow:
            cards = await cards_of(uow, waiting)
        if cards:
            await _post_single(bot, runtime, outbox, chat_id, cards[0])
        return
    if not scheduled:
        outbox.schedule(max(DIGEST_SETTLE_SECONDS, budget.wait_time()))
        return
    while waiting and budget.free() > 0:
        chunk, waiting = waiting[:DIGEST_SIZE], waiting[DIGEST_SIZE:]
        async with runtime.database.unit_of_work() as uow:
            cards = await cards_of(uow, chunk)
        if cards and not await _post_digest(bot, runtime, outbox, chat_id, cards):
            return
    if waiting:
        outbox.schedule(max(1.0, budget.wait_time()))
        return
    async with runtime.database.unit_of_work() as uow:
        more = await has_unposted(uow)
    if more:
        outbox.schedule(max(DIGEST_SETTLE_SECONDS, budget.wait_time()))


async def _post_single(bot: Any, runtime: Runtime, outbox: AdminOutbox, chat_id: int, card: RequestCard) -> None:
    try:
        with staff_language():
            message, used = await send_card(bot, runtime, chat_id, card)
    except _TRANSIENT as exc:
        logger.warning("card of request %s not posted yet: %s", card.request_id, type(exc).__name__)
        outbox.schedule(RETRY_SECONDS)
        return
    except (Forbidden, BadRequest) as exc:
        if group_unavailable(exc):
            logger.error("the bot cannot post in the admin group (ADMIN_CHAT_ID wrong, bot removed?); cards wait")
            outbox.schedule(RETRY_SECONDS * 10)
            return
        logger.error("Telegram refused the card of request %s: %s", card.request_id, type(exc).__name__)
        message, used = None, 0
    outbox.budget.spend(used)
    async with runtime.database.unit_of_work() as uow:
        await record_card_message(uow, [card.request_id], message.message_id if message else NOT_POSTABLE)
        await uow.commit()


def group_unavailable(exc: TelegramError) -> bool:
    """True when the admin group itself cannot be written to (not this one message)."""
    return isinstance(exc, Forbidden) or "chat not found" in str(exc).lower()


async def _post_digest(bot: Any, runtime: Runtime, outbox: AdminOutbox, chat_id: int, cards: list[RequestCard]) -> bool:
    tz = runtime.settings.tz
    try:
        with staff_language():
            message = await bot.send_message(chat_id, digest_text(cards, tz), reply_markup=digest_keyboard(cards))
    except _TRANSIENT as exc:
        logger.warning("digest not posted yet: %s", type(exc).__name__)
        outbox.schedule(RETRY_SECONDS)
        return False
    except TelegramError as exc:
        logger.error("Telegram refused a digest of %s requests: %s", len(cards), type(exc).__name__)
        outbox.schedule(RETRY_SECONDS * 10)
        return False
    outbox.budget.spend()
    async with runtime.database.unit_of_work() as uow:
        await record_card_message(uow, [card.request_id for card in cards], digest_reference(message.message_id))
        await uow.commit()
    return True


async def send_card(bot: Any, runtime: Runtime, chat_id: int, card: RequestCard) -> tuple[Message, int]:
    """Post a card (with its proof as the same message when the text fits in a caption).

    Returns the message carrying the buttons and how many messages were posted.
    """
    tz = runtime.settings.tz
    text, keyboard = card_text(card, tz), card_keyboard(card)
    if card.attachment_file_id:
        try:
            if len(text) <= CAPTION_LIMIT:
                return await _send_file(bot, chat_id, card, caption=text, keyboard=keyboard), 1
            await _send_file(bot, chat_id, card, caption=attachment_caption(card), keyboard=None)
            return await bot.send_message(chat_id, text, reply_markup=keyboard), 2
        except BadRequest as exc:
            logger.warning("proof of request %s not shown: %s", card.request_id, type(exc).__name__)
            text += "\n" + _("⚠️ The attached proof could not be shown.")
    return await bot.send_message(chat_id, text, reply_markup=keyboard), 1


async def _send_file(bot: Any, chat_id: int, card: RequestCard, *, caption: str, keyboard: InlineKeyboardMarkup | None) -> Message:
    if card.attachment_kind == "photo":
        return await bot.send_photo(chat_id, card.attachment_file_id, caption=caption, reply_markup=keyboard)
    return await bot.send_document(chat_id, card.attachment_file_id, caption=caption, reply_markup=keyboard)


async def edit_card(bot: Any, runtime: Runtime, chat_id: int, message_id: int, card: RequestCard, *, has_media: bool | None = None) -> None:
    """Show a card's current state (its decision, no buttons once decided) in place."""
    in_group = chat_id == runtime.settings.admin_chat_id
    with staff_language() if in_group else contextlib.nullcontext():
        text, keyboard = card_text(card, runtime.settings.tz), card_keyboard(card)
    attempts = ("caption", "text") if (card.attachment_file_id if has_media is None else has_media) else ("text", "caption")
    for kind in attempts:
        try:
            if kind == "text":
                await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=keyboard)
            else:
                await bot.edit_message_caption(chat_id=chat_id, message_id=message_id, caption=text[:1024], reply_markup=keyboard)
            if in_group:
                outbox_module.get_outbox(runtime).budget.spend()
            return
        except BadRequest as exc:
            detail = str(exc).lower()
            if "not modified" in detail:
                return
            if "there is no" in detail:  # a text card edited as a caption, or the reverse
                continue
            logger.warning("card of request %s not updated: %s", card.request_id, type(exc).__name__)
            return


async def refresh_cards(
    bot: Any,
    runtime: Runtime,
    card: RequestCard,
    *,
    tapped: Message | None = None,
    other: tuple[int, int] | None = None,
) -> None:
    """Show a card's current state on the message tapped, another card message (chat, id),
    and the request's card in the admin group, each once."""
    done: set[tuple[int, int]] = set()
    if tapped is not None:
        await edit_card(bot, runtime, tapped.chat_id, tapped.message_id, card, has_media=_has_media(tapped))
        done.add((tapped.chat_id, tapped.message_id))
    targets = [other] if other is not None else []
    admin = runtime.settings.admin_chat_id
    if admin is not None and card.admin_message_id is not None and card.admin_message_id > 0:
        targets.append((admin, card.admin_message_id))
    for chat_id, message_id in targets:
        if (chat_id, message_id) not in done:
            done.add((chat_id, message_id))
            await edit_card(bot, runtime, chat_id, message_id, card)


def _has_media(message: Message) -> bool:
    return bool(message.photo or message.document)


@staff_action("staff.open_card")
async def open_card(update: Update, context: Context) -> None:
    """A digest's or /demandes' button: post the request's card here."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    request_id = parsed.int_arg(0) if parsed else None
    if query is None or request_id is None or update.effective_chat is None:
        return
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        card = await request_card(uow, request_id)
    if card is None:
        await query.answer(_("This request no longer exists."), show_alert=True)
        return
    if not card.pending:
        await query.answer(already_decided_text(card, runtime.settings.tz), show_alert=True)
        return
    await query.answer()
    chat_id = update.effective_chat.id
    message, used = await send_card(context.bot, runtime, chat_id, card)
    if in_admin_chat(update.effective_chat, runtime):
        outbox_module.get_outbox(runtime).budget.spend(used)
        async with runtime.database.unit_of_work() as uow:
            await record_card_message(uow, [card.request_id], message.message_id)
            await uow.commit()
        if card.admin_message_id is not None and card.admin_message_id > 0:
            await _retire(context.bot, runtime, chat_id, card.admin_message_id)


async def _retire(bot: Any, runtime: Runtime, chat_id: int, message_id: int) -> None:
    """Take the buttons off an older copy of a card, so that one card only can be decided."""
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
        outbox_module.get_outbox(runtime).budget.spend()
    except BadRequest as exc:
        logger.info("older card left as it was: %s", type(exc).__name__)


@staff_action("staff.pending_requests")
async def list_pending(update: Update, context: Context) -> None:
    """/demandes: what is still waiting, oldest first, with a button to open each card."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        cards = await pending_cards(uow)
    shown = cards[:PENDING_SHOWN]
    keyboard = InlineKeyboardMarkup(open_buttons(shown)) if shown else None
    await message.reply_text(pending_list_text(cards, PENDING_SHOWN, runtime.settings.tz), reply_markup=keyboard)


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """/demandes and the open-card button."""
    return [
        CommandHandler("demandes", list_pending),
        CallbackQueryHandler(open_card, pattern=callbacks.pattern(callbacks.STAFF_OPEN)),
    ]
