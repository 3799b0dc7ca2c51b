"""Texts and keyboards of the admin group: request cards, digests, family messages.

Pure functions of plain data; call them inside the right language (the outbox sender renders
the group's messages in French; handlers answering in the group run in `staff_language()`).
Lengths are measured as Telegram does (`bot.telegram_text`).
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.domain.model import RequestKind, RequestStatus
from bot.i18n import N_, _, babel_locale, elide, format_short_date, format_timestamp, ngettext
from bot.services.inbox import RelayView
from bot.services.request_cards import FamilyAcceptance, RequestCard
from bot.services.requests import FieldValue, RequestDescription, render_value
from bot.telegram_text import CAPTION_LIMIT, cut, fit_lines, utf16_len
from conversations.common import escape

KIND_LABELS: dict[RequestKind, str] = {
    RequestKind.RESPONSABLE: N_("Responsable details"),
    RequestKind.CONJOINT: N_("Spouse / partner details"),
    RequestKind.FISCAL: N_("Tax information"),
    RequestKind.CAF: N_("CAF information"),
    RequestKind.BANK: N_("Bank details"),
    RequestKind.ADD_CHILD: N_("New child"),
    RequestKind.CHILD_DATA: N_("Child's details"),
    RequestKind.AUTHORIZATION: N_("Authorised person"),
    RequestKind.AUTHORIZATION_REMOVAL: N_("Removal of an authorised person"),
    RequestKind.HEALTH: N_("Health data"),
    RequestKind.ENROLMENT: N_("Enrolment"),
    RequestKind.BOOKING: N_("Booking"),
    RequestKind.ABSENCE: N_("Absence"),
}

QUICK_REASONS: tuple[str, ...] = (
    N_("Missing or unreadable proof"),
    N_("Past the deadline"),
    N_("No place left"),
    N_("Incomplete information"),
)
"""One-tap refusal reasons, by index (the index travels in the button's data)."""

TEXT_LIMIT = 4000

DECISION_MEANINGS: dict[RequestKind, str] = {
    RequestKind.ABSENCE: N_("✅ Accept: excused absence, not billed — ❌ Refuse: absent, billed"),
    RequestKind.BOOKING: N_("✅ Accept: booked — ❌ Refuse: booking refused"),
}
"""What each button means for the family's bill, shown on a pending card of these kinds."""


def request_title(kind: RequestKind, description: RequestDescription) -> str:
    """What is asked, translated ("Réservation", "Informations CAF"…)."""
    if description.title == kind.value or not description.title:
        return _(KIND_LABELS.get(kind, kind.value))
    title = _(description.title)
    try:
        return elide(title.format(**description.title_args))
    except (KeyError, IndexError, ValueError):
        return title


def change_lines(description: RequestDescription) -> list[str]:
    """One line per field: the current value beside the requested one."""
    lines = []
    for change in description.changes:
        label = escape(_(change.label))
        current, requested = render_value(change.current), render_value(change.requested)
        if change.current is not None and change.current != change.requested:
            lines.append(
                _("• {label}: {current} → <b>{requested}</b>").format(
                    label=label, current=escape(current or "—"), requested=escape(requested or "—")
                )
            )
        else:
            lines.append(
                _("• {label}: <b>{requested}</b>").format(
                    label=label, requested=escape(requested or "—")
                )
            )
    return lines


def card_text(card: RequestCard, tz: dt.tzinfo) -> str:
    """The card of a request, with its decision when taken."""
    lines = [
        _("📝 <b>Request no. {number}</b> — {title}").format(
            number=card.request_id, title=escape(request_title(card.kind, card.description))
        ),
        _("👪 {name} — family no. {number}").format(
            name=escape(card.family_name or "—"), number=escape(card.family_number)
        ),
    ]
    if card.child_name:
        lines.append(_("🧒 {child}").format(child=escape(card.child_name)))
    lines += change_lines(card.description)
    lines.append(_("🕒 Received on {moment}").format(moment=format_timestamp(card.created_at, tz)))
    if card.attachment_file_id:
        lines.append(_("📎 Proof attached"))
    if card.pending and card.kind in DECISION_MEANINGS:
        lines += ["", _(DECISION_MEANINGS[card.kind])]
    decision = decision_line(card, tz)
    if decision:
        lines += ["", decision]
    return fit_lines("\n".join(lines), TEXT_LIMIT)


def decision_line(card: RequestCard, tz: dt.tzinfo) -> str:
    """ "✅ Accepted by … on …", "❌ Refused by … on … Reason: …", or '' while pending."""
    when = format_timestamp(card.decided_at, tz) if card.decided_at else "—"
    who = escape(card.decided_by_name or "—")
    if card.status == RequestStatus.ACCEPTED:
        return _("✅ <b>Accepted</b> by {name} on {moment}").format(name=who, moment=when)
    if card.status == RequestStatus.REFUSED:
        return _("❌ <b>Refused</b> by {name} on {moment}\nReason: {reason}").format(
            name=who, moment=when, reason=escape(card.refusal_reason or "—")
        )
    if card.status == RequestStatus.CANCELLED:
        line = _("🚫 <b>Cancelled</b> on {moment}").format(moment=when)
        return line + (
            "\n" + _("Reason: {reason}").format(reason=escape(card.refusal_reason))
            if card.refusal_reason
            else ""
        )
    return ""


def card_keyboard(card: RequestCard) -> InlineKeyboardMarkup | None:
    """✅ Accepter / ❌ Refuser while pending; nothing once decided."""
    if not card.pending:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("✅ Accept"),
                    callback_data=callbacks.build(callbacks.STAFF_ACCEPT, card.request_id),
                ),
                InlineKeyboardButton(
                    _("❌ Refuse"),
                    callback_data=callbacks.build(callbacks.STAFF_REFUSE, card.request_id),
                ),
            ]
        ]
    )


def request_line(card: RequestCard, tz: dt.tzinfo) -> str:
    """One line of a digest or of /demandes."""
    parts = [
        _("no. {number}").format(number=card.request_id),
        format_timestamp(card.created_at, tz),
        f"{escape(card.family_name or '—')} ({escape(card.family_number)})",
        escape(request_title(card.kind, card.description)),
    ]
    if card.child_name:
        parts.append(escape(card.child_name))
    parts += [escape(_summary_value(value)) for value in card.description.summary if value]
    if card.attachment_file_id:
        parts.append("📎")
    return "• " + " — ".join(parts)


def _summary_value(value: FieldValue) -> str:
    """A summary's day as "jeu. 03/12/2026" (short, to triage a list), anything else as a card shows it."""
    if isinstance(value, dt.date):
        return f"{format_date(value, 'EEE', locale=babel_locale())} {format_short_date(value)}"
    return render_value(value)


def open_buttons(cards: list[RequestCard], per_row: int = 4) -> list[list[InlineKeyboardButton]]:
    """A button per request that posts its card."""
    buttons = [
        InlineKeyboardButton(
            _("📄 no. {number}").format(number=card.request_id),
            callback_data=callbacks.build(callbacks.STAFF_OPEN, card.request_id),
        )
        for card in cards
    ]
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


ACCEPT_FAMILY_ROWS = 5


def accept_family_buttons(
    families: dict[int, list[RequestCard]],
) -> list[list[InlineKeyboardButton]]:
    """A button per family (the most requests first) accepting its day requests together."""
    ranked = sorted(families.items(), key=lambda item: (-len(item[1]), item[1][0].created_at))[
        :ACCEPT_FAMILY_ROWS
    ]
    return [
        [
            InlineKeyboardButton(
                cut(
                    _("✅ Accept all requests of this family: {name} ({count})").format(
                        name=found[0].family_name or found[0].family_number, count=len(found)
                    ),
                    60,
                ),
                callback_data=callbacks.build(callbacks.STAFF_ACCEPT_FAMILY, "ask", family_id),
            )
        ]
        for family_id, found in ranked
    ]


def accept_family_question(cards: list[RequestCard], tz: dt.tzinfo) -> str:
    """What accepting a family's requests together will do, to confirm."""
    first = cards[0]
    lines = [
        ngettext(
            "Accept the {count} request of the {name} family (no. {number})?",
            "Accept the {count} requests of the {name} family (no. {number})?",
            len(cards),
        ).format(
            count=len(cards),
            name=escape(first.family_name or "—"),
            number=escape(first.family_number),
        ),
        "",
        *(request_line(card, tz) for card in cards),
        "",
        _(
            "Each is applied by its own rules (an absence accepted is excused, not billed); the family is told of each."
        ),
    ]
    return fit_lines("\n".join(lines), TEXT_LIMIT)


def accept_family_report(result: FamilyAcceptance) -> str:
    """What accepting a family's requests did."""
    family = _("{name} family (no. {number})").format(
        name=escape(result.family_name or "—"), number=escape(result.family_number)
    )
    lines = [
        ngettext(
            "✅ {count} request of the {family} accepted.",
            "✅ {count} requests of the {family} accepted.",
            len(result.accepted),
        ).format(count=len(result.accepted), family=family)
    ]
    if result.accepted:
        lines.append(", ".join(_("no. {number}").format(number=i) for i in result.accepted))
    if result.failed:
        lines.append(
            _("⚠️ Could not be applied, still pending: {numbers}").format(
                numbers=", ".join(_("no. {number}").format(number=i) for i in result.failed)
            )
        )
    if result.already_decided:
        lines.append(
            _("Already decided: {numbers}").format(
                numbers=", ".join(
                    _("no. {number}").format(number=i) for i in result.already_decided
                )
            )
        )
    return "\n".join(lines)


def digest_text(cards: list[RequestCard], tz: dt.tzinfo) -> str:
    """Many new requests in one message."""
    header = ngettext(
        "📥 <b>{count} new request</b>", "📥 <b>{count} new requests</b>", len(cards)
    ).format(count=len(cards))
    intro = _("Grouped so as not to flood the group. Open one to accept or refuse it.")
    return fit_lines(
        "\n".join([header, intro, "", *(request_line(card, tz) for card in cards)]), TEXT_LIMIT
    )


def digest_keyboard(cards: list[RequestCard]) -> InlineKeyboardMarkup:
    """The open buttons of a digest."""
    return InlineKeyboardMarkup(open_buttons(cards))


def pending_list_text(cards: list[RequestCard], shown: int, tz: dt.tzinfo) -> str:
    """/demandes: pending requests, oldest first."""
    if not cards:
        return _("✅ No request is waiting.")
    lines = [
        ngettext(
            "📋 <b>{count} pending request</b> (oldest first)",
            "📋 <b>{count} pending requests</b> (oldest first)",
            len(cards),
        ).format(count=len(cards)),
        "",
    ]
    lines += [request_line(card, tz) for card in cards[:shown]]
    if len(cards) > shown:
        lines += ["", _("… and {count} more: decide these first.").format(count=len(cards) - shown)]
    return fit_lines("\n".join(lines), TEXT_LIMIT)


def reason_prompt_text(card: RequestCard) -> str:
    """Asks the staff member why the request is refused."""
    return _(
        "❌ Why is request no. {number} refused?\n"
        "<b>Reply to this message</b> with the reason, or choose a common one:"
    ).format(number=card.request_id)


def reason_keyboard(request_id: int) -> InlineKeyboardMarkup:
    """The one-tap reasons and a way back."""
    rows = [
        [
            InlineKeyboardButton(
                _(reason), callback_data=callbacks.build(callbacks.STAFF_REASON, request_id, index)
            )
        ]
        for index, reason in enumerate(QUICK_REASONS)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("↩️ Do not refuse"),
                callback_data=callbacks.build(callbacks.STAFF_REFUSE_CANCEL, request_id),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def already_decided_text(card: RequestCard, tz: dt.tzinfo) -> str:
    """Told to a staff member pressing a card someone already decided (a short alert)."""
    when = format_timestamp(card.decided_at, tz) if card.decided_at else "—"
    if card.status == RequestStatus.ACCEPTED:
        text = _("Already accepted by {name} on {moment}.")
    elif card.status == RequestStatus.REFUSED:
        text = _("Already refused by {name} on {moment}.")
    else:
        text = _("This request was cancelled on {moment}.")
    return text.format(name=card.decided_by_name or "—", moment=when)[:190]


def relay_text(view: RelayView, tz: dt.tzinfo, limit: int = TEXT_LIMIT) -> str:
    """A family message as shown in the admin group; staff answer by replying to it."""
    header = _("✉️ <b>Message from the {name} family</b> — family no. {number}").format(
        name=escape(view.family_name or "—"), number=escape(view.family_number)
    )
    lines = [header, format_timestamp(view.message.created_at, tz)]
    if view.replied_to is not None:
        lines.append(
            _("↪️ In reply to: “{quote}”").format(quote=escape(_excerpt(view.replied_to.body, 120)))
        )
    footer = _("<i>Reply to this message to answer the family.</i>")
    head, tail = "\n".join(lines) + "\n\n", "\n\n" + footer
    room = max(50, limit - utf16_len(head) - utf16_len(tail))
    return head + escape(_excerpt(view.message.body, room)) + tail


def _excerpt(text: str, size: int) -> str:
    return cut(" ".join(text.split()) if size < 200 else text, size)


def fit_caption(text: str) -> str:
    """A card's text cut to a caption (whole lines, never cutting a tag)."""
    return fit_lines(text, CAPTION_LIMIT)
