"""Request cards in the admin group: their templates, opening them again, and `/demandes`.

A new request's card is an outbox row queued by `bot.services.requests.submit_request`; the
sender (`bot.sender`) renders it with the templates registered here, one card at a time while
the group is quiet, or several requests in one summary (a digest) during a burst. The card
shows the family, the child, what is asked (current value beside the requested one), the proof
when one is attached, and ✅ Accepter / ❌ Refuser (handled in `conversations.staff.decisions`).

Templates: "staff.request_card" (with its digest form), "staff.card_update" (the group's card
edited to the request's current state), "staff.card_reopened" and "staff.card_retired" (a card
posted again from a digest or /demandes, and its older copy without buttons).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.i18n import _
from bot.outgoing import Attachment, Outgoing, Params, deliver_or_fall_back, template
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services import request_cards
from bot.services.request_cards import (
    REOPENED_TEMPLATE,
    RETIRED_TEMPLATE,
    RequestCard,
    record_card_message,
)
from bot.services.requests import CARD_TEMPLATE, CARD_UPDATE_TEMPLATE
from conversations.common import answer_query
from conversations.staff.common import Context, in_admin_chat, staff_action, staff_name
from conversations.staff.render import (
    accept_family_buttons,
    accept_family_question,
    accept_family_report,
    already_decided_text,
    card_keyboard,
    card_text,
    digest_keyboard,
    digest_text,
    fit_caption,
    open_buttons,
    pending_list_text,
)
from storage.db import UnitOfWork

logger = logging.getLogger(__name__)

PENDING_SHOWN = 25


# --- what the sender posts ----------------------------------------------------------------


def card_outgoing(card: RequestCard, runtime: Runtime) -> Outgoing:
    """A card as one message: with its proof as the file and the text as caption when it fits
    (else the sender posts the file, then the text with the buttons); when Telegram refuses
    the proof, the card without it, saying so."""
    text, keyboard = card_text(card, runtime.settings.tz), card_keyboard(card)
    if not card.attachment_file_id:
        return Outgoing(text, keyboard)
    without_proof = Outgoing(text + "\n" + _("⚠️ The attached proof could not be shown."), keyboard)
    attachment = Attachment(card.attachment_file_id, card.attachment_kind or "document")
    return Outgoing(text, keyboard, attachment=attachment, fallback=without_proof)


async def _record_card(uow: UnitOfWork, params: Params, message_ids: Sequence[int]) -> None:
    if message_ids:
        await record_card_message(
            uow, [int(params["request_id"])], message_ids[-1]
        )  # the one with the buttons


async def _record_digest(uow: UnitOfWork, params: Sequence[Params], message_id: int) -> None:
    await request_cards.record_digest_message(
        uow, [int(p["request_id"]) for p in params], message_id
    )


async def _digest(runtime: Runtime, params: Sequence[Params]) -> Outgoing | None:
    """Several new requests in one message, with a button per request that opens its card."""
    cards = await request_cards.pending_cards_of(
        runtime.database, [int(p["request_id"]) for p in params]
    )
    if not cards:
        return None
    tz = runtime.settings.tz
    return Outgoing(digest_text(cards, tz), digest_keyboard(cards))


@template(CARD_TEMPLATE, on_sent=_record_card, digest=_digest, on_digest_sent=_record_digest)
async def _new_card(runtime: Runtime, params: Params) -> Outgoing | None:
    """A new request's card (nothing when it was decided or withdrawn before being shown)."""
    card = await request_cards.get_card(runtime.database, int(params["request_id"]))
    if card is None or not card.pending:
        return None
    return card_outgoing(card, runtime)


@template(REOPENED_TEMPLATE, on_sent=_record_card)
async def _reopened_card(runtime: Runtime, params: Params) -> Outgoing | None:
    """A card posted again on a staff member's request; it becomes the request's card."""
    return await _new_card(runtime, params)


@template(CARD_UPDATE_TEMPLATE)
async def _card_update(runtime: Runtime, params: Params) -> Outgoing | None:
    """The group's card edited to the request's current state (decided elsewhere, cancelled)."""
    card = await request_cards.get_card(runtime.database, int(params["request_id"]))
    if card is None or card.group_card_id is None:
        return None
    return Outgoing(
        card_text(card, runtime.settings.tz),
        card_keyboard(card),
        edit_message_id=card.group_card_id,
    )


@template(RETIRED_TEMPLATE)
async def _retired_card(runtime: Runtime, params: Params) -> Outgoing | None:
    """An older copy of a card, without its buttons, so that one card only can be decided."""
    card = await request_cards.get_card(runtime.database, int(params["request_id"]))
    if card is None:
        return None
    return Outgoing(
        card_text(card, runtime.settings.tz), None, edit_message_id=int(params["message_id"])
    )


# --- direct answers: a card shown or edited where a staff member tapped --------------------------


async def show_card_here(bot: Any, runtime: Runtime, chat_id: int, card: RequestCard) -> None:
    """Post a card in this chat now (the answer to a tap); a refused proof is left out and said."""
    await deliver_or_fall_back(bot, chat_id, card_outgoing(card, runtime), background=False)


async def show_card_state(
    bot: Any,
    runtime: Runtime,
    chat_id: int,
    message_id: int,
    card: RequestCard,
    *,
    has_media: bool | None = None,
) -> None:
    """Edit a card message to the request's current state (its decision, no buttons once decided)."""
    text, keyboard = card_text(card, runtime.settings.tz), card_keyboard(card)
    media_first = bool(card.attachment_file_id) if has_media is None else has_media
    for as_caption in (media_first, not media_first):
        try:
            if as_caption:
                await bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=message_id,
                    caption=fit_caption(text),
                    reply_markup=keyboard,
                )
            else:
                await bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=keyboard
                )
            return
        except BadRequest as exc:
            detail = str(exc).lower()
            if "not modified" in detail:
                return
            if "there is no" in detail:  # a text card edited as a caption, or the reverse
                continue
            logger.warning(
                "card of request %s not updated: %s", card.request_id, type(exc).__name__
            )
            return


def has_media(message: Message) -> bool:
    """True for a card posted as a photo or document with its text as caption."""
    return bool(message.photo or message.document)


# --- handlers -------------------------------------------------------------------------------


@staff_action(request_cards.ACTION_OPEN)
async def open_card(update: Update, context: Context) -> None:
    """A digest's or /demandes' button: the request's card, here."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    request_id = parsed.int_arg(0) if parsed else None
    chat = update.effective_chat
    if query is None or request_id is None or chat is None:
        return
    runtime = get_runtime(context)
    in_group = in_admin_chat(chat, runtime)
    card = await request_cards.open_card(
        runtime.database,
        request_id,
        staff_id=query.from_user.id,
        now=runtime.now(),
        in_admin_group=in_group,
    )
    if card is None:
        await answer_query(update, _("This request no longer exists."), show_alert=True)
        return
    if not card.pending:
        await answer_query(update, already_decided_text(card, runtime.settings.tz), show_alert=True)
        return
    await answer_query(update)
    if not in_group:  # in the group, the outbox posts it and retires the older copy
        await show_card_here(context.bot, runtime, chat.id, card)


@staff_action(request_cards.ACTION_PENDING)
async def list_pending(update: Update, context: Context) -> None:
    """/demandes: what is still waiting, oldest first, with a button to open each card."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    runtime = get_runtime(context)
    cards = await request_cards.list_pending(runtime.database, staff_id=user.id, now=runtime.now())
    shown = cards[:PENDING_SHOWN]
    rows = open_buttons(shown) + accept_family_buttons(request_cards.bulk_acceptable(cards))
    keyboard = InlineKeyboardMarkup(rows) if rows else None
    await message.reply_text(
        pending_list_text(cards, PENDING_SHOWN, runtime.settings.tz), reply_markup=keyboard
    )


@staff_action(request_cards.ACTION_ACCEPT_FAMILY)
async def accept_family(update: Update, context: Context) -> None:
    """ "✅ Accept all of a family": first what will be accepted, then, confirmed, accept each."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    family_id = parsed.int_arg(1) if parsed else None
    if (
        query is None
        or parsed is None
        or family_id is None
        or not isinstance(query.message, Message)
    ):
        return
    runtime = get_runtime(context)
    await answer_query(update)
    if parsed.arg(0) != "yes":
        pending = await request_cards.family_bulk_requests(runtime.database, family_id)
        if not pending:
            await query.message.reply_text(_("This family has no request waiting any more."))
            return
        await query.message.reply_text(
            accept_family_question(pending, runtime.settings.tz),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            _("✅ Accept them all"),
                            callback_data=callbacks.build(
                                callbacks.STAFF_ACCEPT_FAMILY, "yes", family_id
                            ),
                        )
                    ]
                ]
            ),
        )
        return
    user = update.effective_user
    result = await request_cards.accept_family_requests(
        runtime.database,
        family_id,
        staff_id=user.id if user else 0,
        staff_name=staff_name(user),
        now=runtime.now(),
    )
    text = _("This family no longer exists.") if result is None else accept_family_report(result)
    try:
        await query.edit_message_text(text)
    except BadRequest:
        await query.message.reply_text(text)


def build_handlers() -> list[AnyHandler]:
    """/demandes and the open-card button."""
    return [
        CommandHandler("demandes", list_pending),
        CallbackQueryHandler(open_card, pattern=callbacks.pattern(callbacks.STAFF_OPEN)),
        CallbackQueryHandler(
            accept_family, pattern=callbacks.pattern(callbacks.STAFF_ACCEPT_FAMILY)
        ),
    ]
