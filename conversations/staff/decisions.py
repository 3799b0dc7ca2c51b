"""✅ Accepter / ❌ Refuser on a request card, and the family's notice of the decision.

Accepting applies the request through its registered type in the same transaction as the
decision. Refusing first asks the reason: the bot answers the card with a few one-tap common
reasons, or the staff member replies to that question with their own words. Either way one
service call decides, audits, and queues the family's notice ("requests.decided", registered
here) and the group's card update; the handler then edits the card the staff member acted on
to show the decision, who took it and when, without buttons. A card decided already answers
"already decided by …".
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.domain.model import RequestStatus
from bot.i18n import _
from bot.outgoing import Outgoing, Params, template
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services import request_cards
from bot.services.request_cards import ACTION_ACCEPT, ACTION_REFUSE, DecisionFailed, RequestCard
from bot.services.requests import DECIDED_TEMPLATE, DecisionOutcome
from conversations.common import TAB_REQUESTS, answer_query, escape
from conversations.staff.cards import has_media, show_card_state
from conversations.staff.common import Context, in_admin_chat, staff_action, staff_name
from conversations.staff.render import (
    QUICK_REASONS,
    already_decided_text,
    change_lines,
    reason_keyboard,
    reason_prompt_text,
    request_title,
)

logger = logging.getLogger(__name__)

REFUSALS_KEY = "refusal_prompts"
"""chat_data key: {str(prompt message id): [request id, card message id]} (persisted)."""
MAX_REASON = 500


def _request_id(update: Update) -> int | None:
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    return parsed.int_arg(0) if parsed else None


@staff_action(ACTION_ACCEPT)
async def accept(update: Update, context: Context) -> None:
    """✅ Accepter."""
    query, request_id = update.callback_query, _request_id(update)
    if query is None or request_id is None:
        return
    card = query.message if isinstance(query.message, Message) else None
    await _decide(
        update,
        context,
        request_id,
        accept=True,
        reason=None,
        card_message_id=card.message_id if card is not None else None,
        card_has_media=has_media(card) if card is not None else None,
    )


@staff_action(ACTION_REFUSE)
async def ask_reason(update: Update, context: Context) -> None:
    """❌ Refuser: ask why, with one-tap reasons; the decision waits for the reason."""
    query, request_id = update.callback_query, _request_id(update)
    if query is None or request_id is None or not isinstance(query.message, Message):
        return
    runtime = get_runtime(context)
    card = await request_cards.get_card(runtime.database, request_id)
    if card is None:
        await answer_query(update, _("This request no longer exists."), show_alert=True)
        return
    if not card.pending:
        await answer_query(update, already_decided_text(card, runtime.settings.tz), show_alert=True)
        await show_card_state(
            context.bot,
            runtime,
            query.message.chat_id,
            query.message.message_id,
            card,
            has_media=has_media(query.message),
        )
        return
    await answer_query(update)
    prompt = await query.message.reply_text(
        reason_prompt_text(card), reply_markup=reason_keyboard(request_id)
    )
    _prompts(context)[str(prompt.message_id)] = [request_id, query.message.message_id]


@staff_action(ACTION_REFUSE)
async def quick_reason(update: Update, context: Context) -> None:
    """A one-tap reason under the question: refuse with it."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None or not isinstance(query.message, Message):
        return
    request_id, index = parsed.int_arg(0), parsed.int_arg(1)
    if request_id is None or index is None or index >= len(QUICK_REASONS):
        await answer_query(update, _("This button is no longer valid."))
        return
    entry = _prompts(context).pop(str(query.message.message_id), None)
    await _delete(query.message)
    await _decide(
        update,
        context,
        request_id,
        accept=False,
        reason=_(QUICK_REASONS[index]),
        card_message_id=entry[1] if entry else None,
    )


@staff_action("staff.refuse_cancel")
async def cancel_refusal(update: Update, context: Context) -> None:
    """↩️ Ne pas refuser: drop the question; the card keeps its buttons."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    _prompts(context).pop(str(query.message.message_id), None)
    await answer_query(update, _("The request stays pending."))
    await _delete(query.message)


def is_reason_prompt(context: Context, message_id: int) -> bool:
    """True when this bot message asks for a refusal's reason."""
    return str(message_id) in _prompts(context)


@staff_action(ACTION_REFUSE)
async def typed_reason(update: Update, context: Context) -> None:
    """A staff member replied to the question with the reason: refuse with it."""
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return
    reason = (message.text or message.caption or "").strip()
    if not reason:
        await message.reply_text(_("Please reply with the reason in words."))
        return
    prompt = message.reply_to_message
    entry = _prompts(context).pop(str(prompt.message_id), None)
    if entry is None:
        return
    request_id, card_message_id = int(entry[0]), int(entry[1])
    await _delete(prompt)
    await _decide(
        update,
        context,
        request_id,
        accept=False,
        reason=reason[:MAX_REASON],
        card_message_id=card_message_id,
    )


async def _decide(
    update: Update,
    context: Context,
    request_id: int,
    *,
    accept: bool,
    reason: str | None,
    card_message_id: int | None,
    card_has_media: bool | None = None,
) -> None:
    """One service call decides; then the card acted on (in this chat) shows the decision."""
    runtime = get_runtime(context)
    user, chat = update.effective_user, update.effective_chat
    in_group = in_admin_chat(chat, runtime)
    try:
        decision = await request_cards.decide_from_card(
            runtime.database,
            request_id,
            accept=accept,
            staff_id=user.id if user else 0,
            staff_name=staff_name(user),
            now=runtime.now(),
            reason=reason,
            edited_in_group=card_message_id if in_group else None,
        )
    except DecisionFailed as exc:
        logger.error("request %s not decided: %s", request_id, type(exc.__cause__).__name__)
        await _tell(update, _("⚠️ This request could not be applied; nothing was changed."))
        return
    card = decision.card
    if decision.outcome == DecisionOutcome.NOT_FOUND or card is None:
        await _tell(update, _("This request no longer exists."))
        return
    if decision.outcome == DecisionOutcome.ALREADY_DECIDED:
        await _tell(update, already_decided_text(card, runtime.settings.tz))
    elif update.callback_query is not None:
        await answer_query(update, _("✅ Accepted.") if accept else _("❌ Refused."))
    if card_message_id is not None and chat is not None:
        await show_card_state(
            context.bot, runtime, chat.id, card_message_id, card, has_media=card_has_media
        )


# --- the family's notice ------------------------------------------------------------------------


@template(DECIDED_TEMPLATE)
async def _decided_notice(runtime: Runtime, params: Params) -> Outgoing | None:
    """Told to every linked account of the family, each in their language."""
    card = await request_cards.get_card(runtime.database, int(params["request_id"]))
    if card is None or card.pending:
        return None
    return Outgoing(decision_text_for_parent(card), _parent_keyboard())


def decision_text_for_parent(card: RequestCard) -> str:
    """What the family reads (in each parent's language)."""
    accepted = card.status == RequestStatus.ACCEPTED
    lines = [
        _("✅ <b>Your request was accepted</b>")
        if accepted
        else _("❌ <b>Your request was refused</b>")
    ]
    subject = escape(request_title(card.kind, card.description))
    if card.child_name:
        subject += f" — {escape(card.child_name)}"
    lines.append(subject)
    lines += change_lines(card.description)
    if not accepted:
        lines += [
            "",
            _("Reason for the refusal: {reason}").format(reason=escape(card.refusal_reason or "—")),
        ]
    return "\n".join(lines)


def _parent_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("📋 My requests"), callback_data=callbacks.build(callbacks.MENU, TAB_REQUESTS)
                ),
                InlineKeyboardButton(
                    _("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME)
                ),
            ]
        ]
    )


# --- small helpers ------------------------------------------------------------------------------


async def _tell(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await answer_query(update, text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def _delete(message: Message) -> None:
    try:
        await message.delete()
    except BadRequest as exc:
        logger.info("could not delete a reason prompt: %s", type(exc).__name__)


def _prompts(context: Context) -> dict[str, list[int]]:
    chat_data = context.chat_data if context.chat_data is not None else {}
    prompts: dict[str, list[int]] = chat_data.setdefault(REFUSALS_KEY, {})  # chat_data holds Any
    return prompts


def build_handlers() -> list[AnyHandler]:
    """The card buttons (typed reasons come through `conversations.staff.group_replies`)."""
    return [
        CallbackQueryHandler(accept, pattern=callbacks.pattern(callbacks.STAFF_ACCEPT)),
        CallbackQueryHandler(ask_reason, pattern=callbacks.pattern(callbacks.STAFF_REFUSE)),
        CallbackQueryHandler(quick_reason, pattern=callbacks.pattern(callbacks.STAFF_REASON)),
        CallbackQueryHandler(
            cancel_refusal, pattern=callbacks.pattern(callbacks.STAFF_REFUSE_CANCEL)
        ),
    ]
