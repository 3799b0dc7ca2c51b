"""Asking for a change: the guided form behind every "Demander une modification".

A form opens as a summary of its fields with their current values. The parent taps a field,
types the new value (or taps a choice), and gets the summary back with "old → new"; a value
that does not pass its check is answered in French and the rest of the form is kept. "Send"
shows the changes to confirm; a new quotient familial then asks for the attestation (photo or
PDF). The request is saved pending; staff get its card from the outbox, written in the
request's transaction (`bot.services.requests.submit_request`).

The draft lives in `user_data` (persisted), so a restart loses nothing typed. Every callback
of this module returns the conversation's next state (see `conversations.family`).

Taps of the family tabs whose answer depends on the service (a child's page, a form's button)
are wrapped with `family_tap`: the query is answered once the service has spoken, and a refusal
(a forged child, a person no longer listed, a closed form) is that answer, as an alert.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ConversationHandler,
)

from bot import callbacks
from bot.domain import forms
from bot.domain.forms import Field, FieldKind, Form, FormMode
from bot.domain.validators import Problem, ValidationError
from bot.family_texts import display_value
from bot.i18n import N_, _
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services import family_requests, linking
from bot.services.children import ChildNotInFamily, PersonNotListed
from bot.services.family_requests import Attachment, OpenedForm, ServiceNotOffered, SubmitOutcome
from bot.services.use_case import NotAllowed
from conversations.common import (
    Context,
    answer_query,
    back_to_home_keyboard,
    escape,
    parent_handler,
    show,
    user_id_of,
)

DRAFT_KEY = "family_form"
AWAIT_VALUE = "form_value"
AWAIT_PROOF = "form_proof"
END = ConversationHandler.END
CLEAR = "-"
PROOF_MIME_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/heic", "image/webp")

# Where a form goes back to: the account block or the child's page it was opened from.
ACCOUNT_BLOCKS = {"responsable": "r", "conjoint": "c", "fiscal": "f", "caf": "a", "bank": "b"}
HEALTH_FORMS = {"vaccination", "allergy", "illness", "contraindication", "pai", "glasses", "doctor"}

State = str | int
Callback = Callable[[Update, Context], Awaitable[State | None]]


def step(callback: Callback) -> Callable[[Update, Context], Coroutine[Any, Any, State]]:
    """Make a callback a step of the family conversation (None means END).

    The update goes on to the later handler groups, so another feature's pending dialogue
    (the inbox's writing) sees the tap and closes; the main group absorbs it
    (`conversations.family.build_absorbers`).
    """

    @functools.wraps(callback)
    async def run(update: Update, context: Context) -> State:
        state = await callback(update, context)
        return END if state is None else state

    return run


def final_step(callback: Callback) -> Callable[[Update, Context], Coroutine[Any, Any, State]]:
    """A step that consumes its update: a typed value, a proof, /annuler (no later group sees it)."""

    @functools.wraps(callback)
    async def run(update: Update, context: Context) -> State:
        state = await callback(update, context)
        raise ApplicationHandlerStop(END if state is None else state)

    return run


# --- Taps answered once the service has spoken ---------------------------------------------


class FormClosed(NotAllowed):
    """A button of a form draft that is gone: sent, cancelled, or replaced by another form."""


class FormSent(FormClosed):
    """ "Confirm" tapped again after the request was sent (or the form closed)."""


def family_tap(callback: Callback) -> Callback:
    """A parent's tap whose answer waits for the service (`parent_handler(answers_itself=True)`).

    The callback answers the query itself (`answer_query`) once its service has returned; a
    refusal is answered here, as an alert saying why, and nothing else is shown.
    """

    @parent_handler(answers_itself=True)
    @functools.wraps(callback)
    async def run(update: Update, context: Context) -> State | None:
        try:
            return await callback(update, context)
        except NotAllowed as refusal:
            if isinstance(refusal, FormClosed):
                await _unless_unlinked(update, context)  # logged out: say that, not "closed"
            await tell_refusal(update, refusal_text(refusal))
            return None

    return run


async def _unless_unlinked(update: Update, context: Context) -> None:
    """`NotLinked` when the account is no longer linked (a form of before /deconnexion)."""
    await linking.require_link(get_runtime(context).database, user_id_of(update))


def refusal_text(refusal: NotAllowed) -> str:
    """Why a tap was refused, in the user's language."""
    if isinstance(refusal, ChildNotInFamily):
        return _("This child is not in your family.")
    if isinstance(refusal, PersonNotListed):
        return _("This person is no longer on the list.")
    if isinstance(refusal, ServiceNotOffered):
        return _("This service cannot be chosen any more.")
    if isinstance(refusal, FormSent):
        return _("This request has already been sent, or the form was closed.")
    if isinstance(refusal, FormClosed):
        return _("This form is closed. Open it again from the menu.")
    return _("This button is no longer valid.")


async def tell_refusal(update: Update, text: str) -> None:
    """A refusal: the tapped button's alert, or a reply to a message (a proof sent late)."""
    if update.callback_query is not None:
        await answer_query(update, text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=back_to_home_keyboard())


def tapped(update: Update) -> callbacks.Callback:
    """The tapped button's data, parsed; `NotAllowed` when it is not well formed."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if parsed is None:
        raise NotAllowed()
    return parsed


# --- Texts ---------------------------------------------------------------------------------


def problem_text(problem: Problem, field: Field) -> str:
    """Why a typed value was refused, in the user's language."""
    texts = {
        Problem.EMPTY: _("This field is required: it cannot be left empty."),
        Problem.TOO_LONG: _("This is too long: {max} characters at most.").format(
            max=field.max_length
        ),
        Problem.PHONE: _(
            "This is not a valid phone number. Write it like 06 12 34 56 78, or with its country code "
            "for a foreign number (+44 20 7946 0958)."
        ),
        Problem.EMAIL: _("This is not a valid email address (for example jean.dupont@example.fr)."),
        Problem.IBAN: _(
            "This is not a valid IBAN. It starts with the country code and two digits, "
            "for example FR76 3000 6000 0112 3456 7890 189."
        ),
        Problem.IBAN_CHECKSUM: _(
            "This IBAN has a typing error (its check digits do not match). Check it against your RIB."
        ),
        Problem.BIC: _(
            "This is not a valid BIC: 8 or 11 letters and digits, for example BNPAFRPP."
        ),
        Problem.POSTAL_CODE: _("A postal code is made of 5 digits, for example 31400."),
        Problem.CAF_NUMBER: _("A CAF allocataire number is made of 7 or 8 digits."),
        Problem.DATE: _(
            "This is not a valid date. Write it as day/month/year, for example 12/06/2014."
        ),
        Problem.DATE_IN_FUTURE: _("This date is in the future."),
        Problem.DATE_TOO_OLD: _("This date is too far in the past."),
        Problem.DATE_IN_PAST: _("This date is already past: give today's date or a later one."),
        Problem.AMOUNT: _("Write an amount in euros, for example 850 or 850,50."),
        Problem.COUNT: _("Write a whole number between 0 and 20."),
        Problem.CHOICE: _("Please use the buttons."),
        Problem.SYMBOLS: _("Please write it with letters, digits and punctuation only (no emoji)."),
        Problem.BEFORE_OTHER_DATE: _(
            "{field}: this date cannot be before the date of vaccination."
        ).format(field=_(field.label)),
    }
    return texts[problem]


def _hint(field: Field) -> str:
    hints = {
        FieldKind.PHONE: _("For example 06 12 34 56 78, or +44 20 7946 0958 for a foreign number."),
        FieldKind.EMAIL: _("For example jean.dupont@example.fr."),
        FieldKind.POSTAL_CODE: _("5 digits, for example 31400."),
        FieldKind.IBAN: _("As printed on your RIB, for example FR76 3000 6000 0112 3456 7890 189."),
        FieldKind.BIC: _("8 or 11 characters, as printed on your RIB, for example BNPAFRPP."),
        FieldKind.CAF_NUMBER: _("7 or 8 digits, printed on the letters of the CAF."),
        FieldKind.AMOUNT: _("In euros, for example 850 or 850,50."),
        FieldKind.COUNT: _("A number, for example 2."),
    }
    if field.kind.is_date:
        return _("Day/month/year, for example 12/06/2014.")
    return hints.get(field.kind, "")


def _choices(field: Field) -> tuple[tuple[str, str], ...]:
    if field.kind is FieldKind.YES_NO:
        return ((forms.YES, N_("Yes")), (forms.NO, N_("No")))
    return field.choices


# --- The draft -----------------------------------------------------------------------------


def _draft(context: Context, token: str | None = None) -> dict[str, Any] | None:
    draft = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    if not isinstance(draft, dict) or (token is not None and draft.get("token") != token):
        return None
    return draft


def _forget_draft(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)


def _tapped_draft(
    update: Update, context: Context, closed: type[FormClosed] = FormClosed
) -> tuple[callbacks.Callback, dict[str, Any], Form]:
    """The tapped button's data, and the draft and form it belongs to (`closed` when gone)."""
    parsed = tapped(update)
    draft = _draft(context, parsed.arg(0))
    form = forms.get_form(draft["form"]) if draft else None
    if draft is None or form is None:
        raise closed()
    return parsed, draft, form


def _tapped_field(parsed: callbacks.Callback, form: Form) -> tuple[int, Field]:
    index = parsed.int_arg(1)
    if index is None or index >= len(form.fields):
        raise FormClosed()
    return index, form.fields[index]


def back_button_data(form: Form, child_id: int | None) -> str:
    """The button back to where the form was opened."""
    if form.code in ACCOUNT_BLOCKS:
        return callbacks.build(callbacks.ACCOUNT, ACCOUNT_BLOCKS[form.code])
    if form.code in HEALTH_FORMS and child_id:
        return callbacks.build(callbacks.CHILD_HEALTH, child_id)
    if form.code == "authorization" and child_id:
        return callbacks.build(callbacks.CHILD_AUTHORIZATIONS, child_id)
    return callbacks.build(callbacks.CHILD, child_id or 0)


async def begin_draft(update: Update, context: Context, opened: OpenedForm) -> State:
    """Start a new draft of an opened form (replacing any other) and show it."""
    form = opened.form
    draft: dict[str, Any] = {
        "token": secrets.token_hex(4),
        "form": form.code,
        "child_id": opened.child_id,
        "service_id": opened.service_id,
        "subject": " — ".join(part for part in (opened.child_name, opened.service_name) if part),
        "values": {},
        "current": opened.current,
        "awaiting": None,
        "proof": None,
        "back": back_button_data(form, opened.child_id),
    }
    if form.code == forms.ENROLMENT.code:
        draft["values"]["starts_on"] = get_runtime(context).today().isoformat()
    assert context.user_data is not None
    context.user_data[DRAFT_KEY] = draft
    text, keyboard = render_form(form, draft)
    await show(update, text, keyboard)
    return END


def _changed(form: Form, draft: dict[str, Any]) -> dict[str, str]:
    if form.mode is FormMode.CHANGE:
        return forms.changed_values(form, draft["current"], draft["values"])
    return {key: value for key, value in draft["values"].items() if value}


def render_form(form: Form, draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The form's summary: every field with its value, old → new for the changed ones."""
    title = _("✏️ <b>{title}</b>").format(title=_(form.title))
    if draft.get("subject"):
        title += f" — {escape(draft['subject'])}"
    if form.mode is FormMode.CHANGE:
        intro = _(
            "Tap a field to change it, then send the request. Nothing changes until the structure accepts it."
        )
    else:
        intro = _("Tap each field to fill it in (* required), then send the request.")
    lines = [title, intro, ""]
    changed = _changed(form, draft)
    buttons = []
    for index, item in enumerate(form.fields):
        label = _(item.label) + ("*" if form.mode is FormMode.NEW and item.required else "")
        if form.mode is FormMode.CHANGE:
            current = display_value(item, draft["current"].get(item.key), masked=True)
            if item.key in changed:
                new = display_value(item, changed[item.key])
                lines.append(
                    _("{label}: {value}").format(
                        label=escape(label), value=f"{escape(current)} → <b>{escape(new)}</b>"
                    )
                )
            else:
                lines.append(
                    _("{label}: {value}").format(label=escape(label), value=f"{escape(current)}")
                )
        else:
            lines.append(
                _("{label}: {value}").format(
                    label=escape(label),
                    value=f"{escape(display_value(item, draft['values'].get(item.key)))}",
                )
            )
        mark = "✅ " if item.key in changed else ""
        buttons.append(
            InlineKeyboardButton(
                mark + label,
                callback_data=callbacks.build(callbacks.FORM_FIELD, draft["token"], index),
            )
        )
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            InlineKeyboardButton(
                _("📨 Send the request"),
                callback_data=callbacks.build(callbacks.FORM_SEND, draft["token"]),
            ),
            InlineKeyboardButton(
                _("❌ Cancel"), callback_data=callbacks.build(callbacks.FORM_CANCEL, draft["token"])
            ),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


# --- Steps ---------------------------------------------------------------------------------


@family_tap
async def start_form(update: Update, context: Context) -> State | None:
    """ "Demander une modification" / "Ajouter": open the form (child forms check the child)."""
    parsed = tapped(update)
    runtime = get_runtime(context)
    opened = await family_requests.open_form(
        runtime.database,
        user_id_of(update),
        parsed.arg(0),
        child_id=parsed.int_arg(1),
        now=runtime.now(),
    )
    await answer_query(update)
    return await begin_draft(update, context, opened)


@family_tap
async def tap_field(update: Update, context: Context) -> State | None:
    """A field's button: offer its choices, or ask for the value to type."""
    parsed, draft, form = _tapped_draft(update, context)
    index, field = _tapped_field(parsed, form)
    await answer_query(update)
    if field.kind.is_button:
        buttons = [
            InlineKeyboardButton(
                _(label),
                callback_data=callbacks.build(
                    callbacks.FORM_CHOICE, draft["token"], index, position
                ),
            )
            for position, (_code, label) in enumerate(_choices(field))
        ]
        back = InlineKeyboardButton(
            _("◀ Back"), callback_data=callbacks.build(callbacks.FORM_BACK, draft["token"])
        )
        await show(
            update,
            _("Choose: <b>{label}</b>").format(label=escape(_(field.label))),
            InlineKeyboardMarkup([buttons, [back]]),
        )
        return END
    draft["awaiting"] = field.key
    await _ask_value(update, field, draft)
    return AWAIT_VALUE


async def _ask_value(update: Update, field: Field, draft: dict[str, Any]) -> None:
    current = draft["values"].get(field.key, draft["current"].get(field.key))
    lines = [_("Send the new value for <b>{label}</b>.").format(label=escape(_(field.label)))]
    if current:
        lines.append(
            _("Now: {value}").format(value=escape(display_value(field, current, masked=True)))
        )
    if hint := _hint(field):
        lines.append(hint)
    if not field.required:
        lines.append(_("Send - to leave it empty."))
    lines.append(_("Send /annuler to stop."))
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message("\n".join(lines))


@family_tap
async def tap_choice(update: Update, context: Context) -> State | None:
    """A choice (Oui/Non, CAF/MSA…) for a field."""
    parsed, draft, form = _tapped_draft(update, context)
    _index, field = _tapped_field(parsed, form)
    choices = _choices(field)
    position = parsed.int_arg(2)
    if position is None or position >= len(choices):
        raise FormClosed()
    draft["values"][field.key] = choices[position][0]
    draft["awaiting"] = None
    await answer_query(update)
    await show(update, *render_form(form, draft))
    return END


async def receive_value(update: Update, context: Context) -> State | None:
    """The typed value of the awaited field: checked, kept, and the form shown again."""
    message = update.effective_message
    draft = _draft(context)
    form = forms.get_form(draft["form"]) if draft else None
    if (
        message is None
        or message.text is None
        or draft is None
        or form is None
        or not draft.get("awaiting")
    ):
        return END
    field = form.field(draft["awaiting"])
    typed = message.text.strip()
    try:
        if typed == CLEAR:
            if field.required:
                raise ValidationError(Problem.EMPTY)
            value = forms.EMPTY
        else:
            value = forms.normalise(field, typed, get_runtime(context).today())
    except ValidationError as error:
        await message.reply_text(
            problem_text(error.code, field)
            + "\n"
            + _("The rest of the form is kept. Send the value again, or /annuler to stop.")
        )
        return AWAIT_VALUE
    draft["values"][field.key] = value
    draft["awaiting"] = None
    text, keyboard = render_form(form, draft)
    await message.reply_text(text, reply_markup=keyboard)
    return END


async def remind_value(update: Update, context: Context) -> State | None:
    """Something else than text while a value is awaited."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            _("Please type the value as a message, or send /annuler to stop.")
        )
    return AWAIT_VALUE


@family_tap
async def back_to_form(update: Update, context: Context) -> State | None:
    """Back from a choice or from the confirmation to the form."""
    _parsed, draft, form = _tapped_draft(update, context)
    draft["awaiting"] = None
    await answer_query(update)
    await show(update, *render_form(form, draft))
    return END


@family_tap
async def ask_confirmation(update: Update, context: Context) -> State | None:
    """ "Send": check the form is complete, then show the changes to confirm."""
    _parsed, draft, form = _tapped_draft(update, context)
    changed = _changed(form, draft)
    if form.mode is FormMode.CHANGE and not changed:
        await answer_query(
            update,
            _("You have not changed anything yet: tap a field to change it."),
            show_alert=True,
        )
        return END
    missing = forms.missing_fields(form, {**draft["current"], **draft["values"]})
    if missing:
        names = ", ".join(_(item.label) for item in missing)
        await answer_query(
            update, _("Still to fill in: {fields}.").format(fields=names), show_alert=True
        )
        return END
    wrong = forms.out_of_order(form, {**draft["current"], **draft["values"]})
    if wrong:
        await answer_query(
            update, problem_text(Problem.BEFORE_OTHER_DATE, wrong[0]), show_alert=True
        )
        return END
    await answer_query(update)
    lines = [_("<b>Please check your request</b>"), ""]
    for item in form.fields:
        if item.key not in changed:
            continue
        new = escape(display_value(item, changed[item.key]))
        if form.mode is FormMode.CHANGE:
            old = escape(display_value(item, draft["current"].get(item.key), masked=True))
            lines.append(
                _("{label}: {value}").format(
                    label=escape(_(item.label)), value=f"{old} → <b>{new}</b>"
                )
            )
        else:
            lines.append(
                _("{label}: {value}").format(label=escape(_(item.label)), value=f"<b>{new}</b>")
            )
    if forms.needs_proof(form, changed):
        lines += [
            "",
            _(
                "📎 A new quotient familial needs a proof: you will be asked for your attestation (photo or PDF)."
            ),
        ]
    token = draft["token"]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("✅ Confirm and send"),
                    callback_data=callbacks.build(callbacks.FORM_CONFIRM, token),
                )
            ],
            [
                InlineKeyboardButton(
                    _("✏️ Change again"), callback_data=callbacks.build(callbacks.FORM_BACK, token)
                ),
                InlineKeyboardButton(
                    _("❌ Cancel"), callback_data=callbacks.build(callbacks.FORM_CANCEL, token)
                ),
            ],
        ]
    )
    await show(update, "\n".join(lines), keyboard)
    return END


@family_tap
async def confirm(update: Update, context: Context) -> State | None:
    """Confirmed: ask for the proof when one is needed, otherwise send the request."""
    _parsed, draft, form = _tapped_draft(update, context, closed=FormSent)
    if forms.needs_proof(form, _changed(form, draft)) and not draft.get("proof"):
        await answer_query(update)
        await show(
            update,
            _(
                "📎 Attach your attestation of quotient familial (from the CAF or the MSA): send a photo of it, "
                "or the PDF file. Send /annuler to stop."
            ),
        )
        return AWAIT_PROOF
    state = await _submit(update, context, form, draft)
    await answer_query(update)
    return state


@family_tap
async def receive_proof(update: Update, context: Context) -> State | None:
    """The attestation, as a photo or a PDF/image file: attach it and send the request."""
    message = update.effective_message
    draft = _draft(context)
    form = forms.get_form(draft["form"]) if draft else None
    if message is None or draft is None or form is None:
        return END
    if message.photo:
        draft["proof"] = {"file_id": message.photo[-1].file_id, "kind": "photo"}
    elif message.document is not None and (message.document.mime_type or "") in PROOF_MIME_TYPES:
        draft["proof"] = {"file_id": message.document.file_id, "kind": "document"}
    else:
        await message.reply_text(
            _("Please send a photo or a PDF file of the attestation, or /annuler to stop.")
        )
        return AWAIT_PROOF
    return await _submit(update, context, form, draft)


async def remind_proof(update: Update, context: Context) -> State | None:
    """Anything else while the proof is awaited."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            _("Please send a photo or a PDF file of the attestation, or /annuler to stop.")
        )
    return AWAIT_PROOF


async def _submit(update: Update, context: Context, form: Form, draft: dict[str, Any]) -> State:
    user_id = user_id_of(update)
    runtime = get_runtime(context)
    proof = draft.get("proof")
    try:
        result = await family_requests.submit_form(
            runtime.database,
            user_id,
            form_code=form.code,
            values=draft["values"],
            now=runtime.now(),
            today=runtime.today(),
            child_id=draft.get("child_id"),
            service_id=draft.get("service_id"),
            attachment=Attachment(proof["file_id"], proof["kind"]) if proof else None,
            idempotency_key=f"form-{user_id}-{draft['token']}",
        )
    except NotAllowed:
        _forget_draft(context)
        raise
    outcome = result.outcome
    if outcome == SubmitOutcome.PROOF_NEEDED:
        await show(
            update, _("📎 Attach your attestation of quotient familial: a photo or the PDF file.")
        )
        return AWAIT_PROOF
    if outcome in (
        SubmitOutcome.INVALID,
        SubmitOutcome.MISSING_FIELDS,
        SubmitOutcome.NOTHING_CHANGED,
    ):
        text, keyboard = render_form(form, draft)
        if outcome == SubmitOutcome.INVALID and result.invalid_field:
            notice = _("<b>{label}</b> is not valid any more: please type it again.").format(
                label=escape(_(form.field(result.invalid_field).label))
            )
        elif outcome == SubmitOutcome.MISSING_FIELDS:
            notice = _("Still to fill in: {fields}.").format(
                fields=", ".join(_(form.field(k).label) for k in result.missing)
            )
        else:
            notice = _("You have not changed anything yet: tap a field to change it.")
        await show(update, notice + "\n\n" + text, keyboard)
        return END
    _forget_draft(context)
    back = InlineKeyboardButton(_("◀ Back"), callback_data=draft["back"])
    home = InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))
    if outcome == SubmitOutcome.NOT_AVAILABLE:
        await show(update, _("This is no longer available."), InlineKeyboardMarkup([[back, home]]))
        return END
    if outcome == SubmitOutcome.ALREADY_PENDING:
        await show(
            update,
            _("You have already asked for this: the structure has not answered yet."),
            InlineKeyboardMarkup([[back, home]]),
        )
        return END
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("📋 My requests"),
                    callback_data=callbacks.build(callbacks.REQUEST_LIST, "all", 1),
                )
            ],
            [back, home],
        ]
    )
    await show(
        update,
        _(
            "✅ Your request has been sent to the structure. You will be told here when it is accepted or refused; "
            "you can follow it in « My requests »."
        ),
        keyboard,
    )
    return END


@parent_handler
async def cancel_form(update: Update, context: Context) -> State | None:
    """❌ Cancel: forget the draft, nothing is sent."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    draft = _draft(context, parsed.arg(0)) if parsed else None
    back = draft["back"] if draft else callbacks.build(callbacks.HOME)
    if draft is not None:
        _forget_draft(context)
    else:
        await _unless_unlinked(update, context)
    await show(
        update,
        _("Cancelled: nothing was sent."),
        InlineKeyboardMarkup([[InlineKeyboardButton(_("◀ Back"), callback_data=back)]]),
    )
    return END


async def cancel_command(update: Update, context: Context) -> State | None:
    """/annuler while typing a value or the proof."""
    draft = _draft(context)
    if draft is not None:
        _forget_draft(context)
    if update.effective_message is not None:
        back = draft["back"] if draft else callbacks.build(callbacks.HOME)
        await update.effective_message.reply_text(
            _("Cancelled: nothing was sent."),
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(_("◀ Back"), callback_data=back)]]
            ),
        )
    return END


def build_handlers() -> list[AnyHandler]:
    """The form's buttons (steps of the family conversation)."""
    return [
        CallbackQueryHandler(step(start_form), pattern=callbacks.pattern(callbacks.FORM_START)),
        CallbackQueryHandler(step(tap_field), pattern=callbacks.pattern(callbacks.FORM_FIELD)),
        CallbackQueryHandler(step(tap_choice), pattern=callbacks.pattern(callbacks.FORM_CHOICE)),
        CallbackQueryHandler(
            step(ask_confirmation), pattern=callbacks.pattern(callbacks.FORM_SEND)
        ),
        CallbackQueryHandler(step(confirm), pattern=callbacks.pattern(callbacks.FORM_CONFIRM)),
        CallbackQueryHandler(step(back_to_form), pattern=callbacks.pattern(callbacks.FORM_BACK)),
        CallbackQueryHandler(step(cancel_form), pattern=callbacks.pattern(callbacks.FORM_CANCEL)),
    ]
