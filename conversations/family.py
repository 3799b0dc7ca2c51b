"""The parent's family dialogues as one persistent conversation: Mon compte, Mes enfants, the
request forms, Liste des demandes, Infos/Documents and /mesdonnees.

Why one conversation: a form waits for typed values (and for the proof of a quotient familial)
while the parent may tap anything else. Every button of these tabs is both an entry point and
a fallback, so it works from any state and closes a pending question; anything else (another
feature's button, a command) quietly closes it too. So no stale question ever catches a later
message.

Handler groups: the conversation runs in its own group (`FAMILY_GROUP` in bot/app.py), before
the other dialogues. Its button steps let the update go on, so another feature's pending dialogue
in a later group (the inbox's writing) sees the tap and closes; `build_absorbers()`, registered
in the main group before home and the fallbacks, then takes these updates so nothing answers
them twice. Typed values, proofs and /annuler are consumed here (`final_step`).
"""

from __future__ import annotations

import re
import warnings

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks
from bot.ptb_types import AnyHandler, Conversation
from conversations import account, children, data_rights, documents, forms, requests_list
from conversations.common import TAB_ACCOUNT, TAB_CHILDREN, TAB_DOCUMENTS, TAB_REQUESTS, Context
from conversations.forms import END, State, final_step

PRIVATE = filters.ChatType.PRIVATE
NAME = "family"
COMMANDS = ("mesdonnees",)
ACTIONS = (
    callbacks.ACCOUNT,
    callbacks.FORM_START,
    callbacks.FORM_ENROL,
    callbacks.FORM_FIELD,
    callbacks.FORM_CHOICE,
    callbacks.FORM_SEND,
    callbacks.FORM_CONFIRM,
    callbacks.FORM_BACK,
    callbacks.FORM_CANCEL,
    callbacks.CHILD,
    callbacks.CHILD_AUTHORIZATIONS,
    callbacks.CHILD_REMOVAL,
    callbacks.CHILD_REMOVAL_CONFIRM,
    callbacks.CHILD_HEALTH,
    callbacks.CHILD_ENROL,
    callbacks.REQUEST_LIST,
    callbacks.REQUEST_PAGE,
    callbacks.DOCUMENT,
    callbacks.REGISTRATION_FORM,
    callbacks.MY_DATA,
)
TABS = (TAB_ACCOUNT, TAB_CHILDREN, TAB_REQUESTS, TAB_DOCUMENTS)
OWN_BUTTONS = re.compile(
    rf"^(?:{'|'.join(re.escape(a) for a in ACTIONS)})(?:{callbacks.SEPARATOR}|$)"
    rf"|^{callbacks.MENU}{callbacks.SEPARATOR}(?:{'|'.join(TABS)})$"
)


async def _leave(update: Update, context: Context) -> State:
    """Something for another feature: close the pending question; the later groups act."""
    return END


async def _absorb(update: Update, context: Context) -> None:
    """Already handled by the family conversation (in its earlier group)."""


def parent_handlers() -> list[AnyHandler]:
    """Every button and command of the family tabs."""
    return [
        *account.build_handlers(),
        *children.build_handlers(),
        *forms.build_handlers(),
        *requests_list.build_handlers(),
        *documents.build_parent_handlers(),
        *data_rights.build_handlers(),
    ]


def build_handler() -> Conversation:
    """The family conversation (register it in its own group, before the main group)."""
    steps = parent_handlers()
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", PTBUserWarning
        )  # per_message=False with buttons is deliberate
        return ConversationHandler(
            entry_points=steps,
            states={
                forms.AWAIT_VALUE: [
                    MessageHandler(
                        PRIVATE & filters.TEXT & ~filters.COMMAND, final_step(forms.receive_value)
                    ),
                    MessageHandler(
                        PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
                        final_step(forms.remind_value),
                    ),
                ],
                forms.AWAIT_PROOF: [
                    MessageHandler(
                        PRIVATE & (filters.PHOTO | filters.Document.ALL),
                        final_step(forms.receive_proof),
                    ),
                    MessageHandler(
                        PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
                        final_step(forms.remind_proof),
                    ),
                ],
            },
            fallbacks=[
                *steps,
                CommandHandler("annuler", final_step(forms.cancel_command), filters=PRIVATE),
                CallbackQueryHandler(_leave),
                MessageHandler(filters.COMMAND, _leave),
            ],
            name=NAME,
            persistent=True,
            allow_reentry=True,
            per_message=False,
        )


def build_absorbers() -> list[AnyHandler]:
    """For the main group, before home and the fallbacks: the family conversation's updates."""
    return [
        CallbackQueryHandler(_absorb, pattern=OWN_BUTTONS),
        CommandHandler(list(COMMANDS), _absorb, filters=PRIVATE),
    ]
