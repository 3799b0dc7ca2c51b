"""Running the day: /invite, /fermeture, /effectifs, /famille (and unlinking an account).

Each command is staff-only and answers where it was typed (the admin group or a staff
member's private chat); the service it calls audits it. What families are told (a closure,
an unlinked account) goes through the outbox: the templates `day.closure` and `day.unlinked`
are rendered here, in each parent's language.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import segno
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.domain.model import DayStatus, RequestStatus
from bot.domain.staff_input import parse_day, parse_family_number, split_service_and_reason
from bot.i18n import N_, _, format_day, format_money, format_short_date, format_timestamp, ngettext
from bot.outgoing import Outgoing, Params, template
from bot.runtime import Runtime, get_runtime
from bot.services.linking import UnknownFamily, invite_link, issue_invite
from bot.services.staff_day import (
    TEMPLATE_CLOSURE,
    TEMPLATE_UNLINKED,
    ClosureOutcome,
    FamilySheet,
    Headcount,
    close_day,
    family_sheet,
    revoke_link,
    staff_headcount,
)
from conversations.common import escape, user_id_of
from conversations.staff.common import Context, command_text, staff_action, staff_language
from conversations.staff.render import KIND_LABELS
from storage.models import Guardian

RECENT_REQUEST_DAYS = 30
STATUS_LABELS = {
    DayStatus.RESERVED: N_("booked"),
    DayStatus.REGULAR: N_("regular"),
    DayStatus.PRESENT: N_("present"),
}
REQUEST_STATUS_LABELS = {
    RequestStatus.PENDING: N_("request pending"),
    RequestStatus.ACCEPTED: N_("request accepted"),
    RequestStatus.REFUSED: N_("request refused"),
    RequestStatus.CANCELLED: N_("request cancelled"),
}


# --- /invite ---------------------------------------------------------------------------------


@staff_action("staff.invite")
async def invite(update: Update, context: Context) -> None:
    """/invite N_FAMILLE: a one-time invitation link and its QR code, to print or pass on."""
    message = update.effective_message
    if message is None:
        return
    number = parse_family_number(command_text(update))
    if number is None:
        await message.reply_text(_("Usage: /invite FAMILY_NUMBER\nExample: /invite 1001001818331"))
        return
    runtime = get_runtime(context)
    try:
        created = await issue_invite(
            runtime.database, number, now=runtime.now(), ttl_days=runtime.settings.invite_ttl_days, staff_id=user_id_of(update)
        )
    except UnknownFamily:
        await message.reply_text(_("No family has the number {number}.").format(number=escape(number)))
        return
    username = runtime.settings.telegram_bot_username or context.bot.username
    link = invite_link(username, created.code)
    picture = io.BytesIO()
    segno.make(link, error="m").save(picture, kind="png", scale=8, border=4)
    caption = "\n".join(
        [
            _("🔗 Invitation for family no. {number}").format(number=escape(created.family_number)),
            escape(link),
            _("Works once, until {date}. Print the QR code on a letter or pass the link to the parent.").format(
                date=format_short_date(created.expires_at.astimezone(runtime.settings.tz).date())
            ),
        ]
    )
    await message.reply_photo(InputFile(picture.getvalue(), filename=f"invitation-{created.family_number}.png"), caption=caption)


# --- /fermeture ------------------------------------------------------------------------------


@staff_action("staff.close_day")
async def close(update: Update, context: Context) -> None:
    """/fermeture DATE [service] motif: close a day; its bookings are cancelled without charge."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    words = command_text(update).split()
    day = parse_day(words[0], runtime.today()) if words else None
    services = [(s.code, s.name) for s in runtime.structure.services]
    service_code, reason = split_service_and_reason(words[1:], services) if words else (None, "")
    if day is None or not reason:
        await message.reply_text(
            _(
                "Usage: /fermeture DATE [service] reason\n"
                "Example: /fermeture 24/11/2026 cantine Staff strike\n"
                "Without a service, the whole structure is closed. Services: {services}"
            ).format(services=", ".join(code for code, _name in services))
        )
        return
    service_name = next((name for code, name in services if code == service_code), None)
    with staff_language():
        notice = closure_notice(day, service_name, reason)
    result = await close_day(
        runtime.database, day=day, service_code=service_code, reason=reason, staff_id=user_id_of(update),
        now=runtime.now(), today=runtime.today(), notice_body=notice,
    )
    where = escape(result.service_name) if result.service_name else _("the whole structure")
    if result.outcome == ClosureOutcome.PAST_DAY:
        await message.reply_text(_("{day} is past: it cannot be closed.").format(day=format_day(day)))
        return
    if result.outcome == ClosureOutcome.ALREADY_CLOSED:
        await message.reply_text(_("{day} is already closed for {where}.").format(day=format_day(day), where=where))
        return
    if result.outcome == ClosureOutcome.UNKNOWN_SERVICE:
        await message.reply_text(_("Unknown service."))
        return
    lines = [
        _("🚫 Closure recorded: {day}, {where}.").format(day=format_day(day), where=where),
        _("Reason: {reason}").format(reason=escape(reason)),
        ngettext(
            "{count} booking cancelled without charge.", "{count} bookings cancelled without charge.", result.cancelled
        ).format(count=result.cancelled),
        ngettext(
            "{count} family told ({accounts} Telegram account(s)).",
            "{count} families told ({accounts} Telegram account(s)).",
            result.families,
        ).format(count=result.families, accounts=result.accounts),
    ]
    if result.cancelled_requests:
        lines.append(
            ngettext(
                "{count} pending request for that day was cancelled.",
                "{count} pending requests for that day were cancelled.",
                result.cancelled_requests,
            ).format(count=result.cancelled_requests)
        )
    await message.reply_text("\n".join(lines))


def closure_notice(day: dt.date, service_name: str | None, reason: str) -> str:
    """The closure as kept in families' inboxes (plain text)."""
    where = service_name or _("the whole structure")
    return _("Closure on {day} ({where}): {reason}. Bookings of that day are cancelled without charge.").format(
        day=format_day(day), where=where, reason=reason
    )


def closure_text(day: dt.date, service_name: str | None, reason: str, bookings: list[tuple[str, str]]) -> str:
    """What a family reads about a closure (in the parent's language): its cancelled bookings."""
    where = escape(service_name) if service_name else _("the whole structure")
    lines = [
        _("🚫 <b>Closure on {day}</b> ({where})").format(day=format_day(day), where=where),
        _("Reason: {reason}").format(reason=escape(reason)),
        "",
        _("These bookings are cancelled, without charge:"),
    ]
    lines += [f"• {escape(child)} — {escape(service)}" for child, service in bookings]
    return "\n".join(lines)


@template(TEMPLATE_CLOSURE)
async def _closure_notice(runtime: Runtime, params: Params) -> Outgoing:
    """A family's bookings cancelled by a closure (see `TEMPLATE_CLOSURE`)."""
    bookings = [(str(child), str(service)) for child, service in params["bookings"]]
    return Outgoing(closure_text(dt.date.fromisoformat(params["day"]), params.get("service"), params["reason"], bookings))


# --- /effectifs ------------------------------------------------------------------------------


@staff_action("staff.headcount")
async def headcount_command(update: Update, context: Context) -> None:
    """/effectifs [DATE]: who is expected per service (tomorrow by default), and a CSV of names."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    argument = command_text(update)
    day = parse_day(argument, runtime.today()) if argument else runtime.today() + dt.timedelta(days=1)
    if day is None:
        await message.reply_text(_("Usage: /effectifs [DATE]\nExample: /effectifs 24/11/2026 (tomorrow by default)"))
        return
    counted = await staff_headcount(runtime.database, day, staff_id=user_id_of(update), now=runtime.now())
    await message.reply_text(headcount_text(counted))
    await message.reply_document(
        InputFile(headcount_csv(counted), filename=f"effectifs-{day.isoformat()}.csv"),
        caption=_("Names of the children expected on {day}.").format(day=format_short_date(day)),
    )


def headcount_text(counted: Headcount) -> str:
    """The headcount per service, allergies flagged."""
    lines = [_("👥 <b>Headcount for {day}</b>").format(day=format_day(counted.day)), ""]
    for service in counted.services:
        line = f"• {escape(service.name)} : <b>{service.count}</b>"
        if service.code in counted.closed:
            line += " — " + _("closed")
        if service.with_allergies:
            line += " — " + ngettext("⚠️ {count} allergy", "⚠️ {count} allergies", len(service.with_allergies)).format(
                count=len(service.with_allergies)
            )
        lines.append(line)
    allergic = [(service, child) for service in counted.services for child in service.with_allergies]
    if allergic:
        lines += ["", _("<b>⚠️ Allergies</b>")]
        lines += [
            f"• {escape(child.first_name)} {escape(child.last_name)} ({escape(service.name)}) : "
            f"{escape(', '.join(child.allergies))}"
            for service, child in allergic
        ]
    return "\n".join(lines)


def headcount_csv(counted: Headcount) -> bytes:
    """The names, one child per line and service, for the caterer or the register (Excel-ready)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Date"), _("Service"), _("Last name"), _("First name"), _("School"), _("Class"), _("Status"), _("Allergies")])
    for service in counted.services:
        for child in service.children:
            writer.writerow(
                [
                    counted.day.isoformat(),
                    service.name,
                    child.last_name,
                    child.first_name,
                    child.school or "",
                    child.class_name or "",
                    _(STATUS_LABELS.get(child.status, child.status.value)),
                    ", ".join(child.allergies),
                ]
            )
    return buffer.getvalue().encode("utf-8-sig")


# --- /famille --------------------------------------------------------------------------------


@staff_action("staff.family")
async def family(update: Update, context: Context) -> None:
    """/famille N_FAMILLE: the fiche, children, balance, recent requests, linked accounts."""
    message = update.effective_message
    if message is None:
        return
    number = parse_family_number(command_text(update))
    if number is None:
        await message.reply_text(_("Usage: /famille FAMILY_NUMBER\nExample: /famille 1001001818331"))
        return
    runtime = get_runtime(context)
    since = runtime.now() - dt.timedelta(days=RECENT_REQUEST_DAYS)
    sheet = await family_sheet(runtime.database, number, since=since, staff_id=user_id_of(update), now=runtime.now())
    if sheet is None:
        await message.reply_text(_("No family has the number {number}.").format(number=escape(number)))
        return
    buttons = [
        [
            InlineKeyboardButton(
                _("🔗 Unlink account {user}").format(user=account.telegram_user_id),
                callback_data=callbacks.build(callbacks.STAFF_LINK, "ask", account.link_id),
            )
        ]
        for account in sheet.accounts
    ]
    await message.reply_text(family_text(sheet, runtime), reply_markup=InlineKeyboardMarkup(buttons) if buttons else None)


def family_text(sheet: FamilySheet, runtime: Runtime) -> str:
    """The staff's view of a family."""
    tz = runtime.settings.tz
    family = sheet.family
    lines = [_("👪 <b>{name} family</b> — family no. {number}").format(name=escape(sheet.name or "—"), number=escape(family.number))]
    lines += _guardian_lines(_("Responsable"), sheet.responsable)
    if sheet.conjoint is not None:
        lines += _guardian_lines(_("Spouse / partner"), sheet.conjoint)
    regime = family.regime.value.upper() if family.regime else "—"
    lines.append(
        _("Scheme: {regime} — allocataire no. {caf} — quotient familial {qf}").format(
            regime=regime,
            caf=escape(family.caf_number or "—"),
            qf=format_money(family.quotient_familial) if family.quotient_familial is not None else "—",
        )
    )
    balance = _("Balance: {amount}").format(amount=format_money(sheet.balance))
    if sheet.unpaid_invoices:
        balance += " — " + ngettext("{count} unpaid invoice", "{count} unpaid invoices", sheet.unpaid_invoices).format(
            count=sheet.unpaid_invoices
        )
    lines += [balance, "", _("<b>Children</b>")]
    if not sheet.children:
        lines.append(_("No child recorded."))
    for item in sheet.children:
        child = item.child
        born = format_short_date(child.birth_date) if child.birth_date else "—"
        line = _("• {first} {last}, born {born} — {class_name}, {school}").format(
            first=escape(child.first_name), last=escape(child.last_name), born=born,
            class_name=escape(child.class_name or "—"), school=escape(child.school or "—"),
        )
        if item.allergies:
            line += " — " + _("⚠️ allergies: {items}").format(items=escape(", ".join(item.allergies)))
        lines.append(line)
    lines += ["", _("<b>Requests of the last {days} days</b>").format(days=RECENT_REQUEST_DAYS)]
    if not sheet.recent_requests:
        lines.append(_("None."))
    for request in sheet.recent_requests[:15]:
        line = "• " + " — ".join(
            [
                _("no. {number}").format(number=request.id),
                format_timestamp(request.created_at, tz),
                escape(_(KIND_LABELS.get(request.kind, request.kind.value))),
                _(REQUEST_STATUS_LABELS[request.status]),
            ]
        )
        if request.reason:
            line += f" ({escape(request.reason)})"
        lines.append(line)
    lines += ["", _("<b>Linked Telegram accounts</b>")]
    if not sheet.accounts:
        lines.append(_("None: send /invite {number} to invite the family.").format(number=family.number))
    for account in sheet.accounts:
        line = _("• account {user}, linked on {date} ({via})").format(
            user=account.telegram_user_id,
            date=format_short_date(account.linked_at.astimezone(tz).date()),
            via=_("invitation") if account.linked_by == "invite" else _("phone number"),
        )
        if account.unreachable_since is not None:
            line += " — " + _("⚠️ unreachable since {date}").format(
                date=format_short_date(account.unreachable_since.astimezone(tz).date())
            )
        lines.append(line)
    return "\n".join(lines)


def _guardian_lines(title: str, guardian: Guardian | None) -> list[str]:
    if guardian is None:
        return []
    phones = ", ".join(p for p in (guardian.phone_mobile, guardian.phone_home, guardian.phone_work) if p)
    address = " ".join(p for p in (guardian.address, guardian.postal_code, guardian.city) if p)
    return [
        f"<b>{escape(title)}</b> : {escape(guardian.civility or '')} {escape(guardian.first_name)} {escape(guardian.last_name)}".replace("  ", " "),
        f"   {escape(address or '—')} — {escape(phones or '—')} — {escape(guardian.email or '—')}",
    ]


@staff_action("staff.revoke_link")
async def link_button(update: Update, context: Context) -> None:
    """🔗 Délier: confirm, then revoke the link and tell the parent."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    link_id = parsed.int_arg(1) if parsed else None
    if query is None or parsed is None or link_id is None or not isinstance(query.message, Message):
        return
    operation = parsed.arg(0)
    if operation == "ask":
        await query.answer()
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(_("Yes, unlink"), callback_data=callbacks.build(callbacks.STAFF_LINK, "yes", link_id)),
                    InlineKeyboardButton(_("No"), callback_data=callbacks.build(callbacks.STAFF_LINK, "no", link_id)),
                ]
            ]
        )
        await query.message.reply_text(
            _("Unlink this Telegram account from the family? The parent will no longer see the family's data."),
            reply_markup=keyboard,
        )
        return
    if operation != "yes":
        await query.answer()
        await query.edit_message_text(_("Nothing changed."))
        return
    runtime = get_runtime(context)
    revoked = await revoke_link(runtime.database, link_id, staff_id=user_id_of(update), now=runtime.now())
    if revoked is None:
        await query.answer(_("This account is already unlinked."), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(
        _("🔗 Account {user} unlinked from family no. {number}.").format(
            user=revoked.telegram_user_id, number=escape(revoked.family_number)
        )
    )


@template(TEMPLATE_UNLINKED)
async def _unlinked_notice(runtime: Runtime, params: Params) -> Outgoing:
    """Told to the account staff just unlinked."""
    return Outgoing(_("Your Telegram account is no longer linked to your family. Contact the structure if this is a mistake."))


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The staff's day commands."""
    return [
        CommandHandler("invite", invite),
        CommandHandler("fermeture", close),
        CommandHandler("effectifs", headcount_command),
        CommandHandler("famille", family),
        CallbackQueryHandler(link_button, pattern=callbacks.pattern(callbacks.STAFF_LINK)),
    ]
