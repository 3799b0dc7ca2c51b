"""Running the day: /invite, /fermeture, /effectifs, /famille (and unlinking an account).

Each command is staff-only and answers where it was typed (the admin group or a staff
member's private chat); the service it calls audits it. What families are told (a closure,
an unlinked account) goes through the outbox: the templates `day.closure` and `day.unlinked`
are rendered here, in each parent's language.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets

import segno
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.csv_safe import safe_writer
from bot.domain.model import DayStatus, RequestStatus
from bot.domain.staff_input import (
    UnknownServiceWord,
    match_service,
    parse_day,
    parse_day_words,
    split_service_and_reason,
)
from bot.i18n import (
    N_,
    _,
    by_sex,
    format_day,
    format_money,
    format_short_date,
    format_timestamp,
    ngettext,
    pgettext,
)
from bot.outgoing import Outgoing, Params, template
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services.linking import UnknownFamily, invite_link, issue_invite
from bot.services.staff_day import (
    TEMPLATE_CLOSURE,
    TEMPLATE_REOPENED,
    TEMPLATE_UNLINKED,
    ClosureOutcome,
    ClosureResult,
    FamilySheet,
    Headcount,
    ReopenOutcome,
    close_day,
    family_sheet,
    preview_closure,
    reopen_day,
    revoke_link,
    staff_headcount,
)
from bot.telegram_text import utf16_len
from conversations.common import answer_query, escape, user_id_of
from conversations.input_errors import day_error
from conversations.staff.common import Context, command_text, staff_action, staff_language
from conversations.staff.family_pick import family_argument, register_pick
from conversations.staff.people import telegram_names
from conversations.staff.render import KIND_LABELS
from conversations.usages import usage
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
    typed = command_text(update)
    if not typed:
        await message.reply_text(usage("invite"))
        return
    number = await family_argument(update, context, "invite", typed)
    if number is not None:
        await send_invite(update, context, number, "")


async def send_invite(update: Update, context: Context, number: str, rest: str = "") -> None:
    """The invitation of a N° famille (also after choosing among several of a name)."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    try:
        created = await issue_invite(
            runtime.database,
            number,
            now=runtime.now(),
            ttl_days=runtime.settings.invite_ttl_days,
            staff_id=user_id_of(update),
        )
    except UnknownFamily:
        await message.reply_text(
            _("No family has the number {number}.").format(number=escape(number))
        )
        return
    username = runtime.settings.telegram_bot_username or context.bot.username
    link = invite_link(username, created.code)
    picture = io.BytesIO()
    segno.make(link, error="m").save(picture, kind="png", scale=8, border=4)
    caption = "\n".join(
        [
            _("🔗 Invitation for family no. {number}").format(number=escape(created.family_number)),
            escape(link),
            _(
                "Works once, until {date}. Print the QR code on a letter or pass the link to the parent."
            ).format(
                date=format_short_date(created.expires_at.astimezone(runtime.settings.tz).date())
            ),
        ]
    )
    await message.reply_photo(
        InputFile(picture.getvalue(), filename=f"invitation-{created.family_number}.png"),
        caption=caption,
    )


# --- /fermeture ------------------------------------------------------------------------------


CLOSURE_REASON_LIMIT = 200
"""A closure's reason is stored, and told to every family, up to this many units."""


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
    try:
        service_code, reason = (
            split_service_and_reason(words[1:], services) if words else (None, "")
        )
    except UnknownServiceWord as exc:
        await message.reply_text(
            _(
                "Unknown service: {word}. Nothing was closed.\nServices: {services}\nWithout a service, the whole structure is closed."
            ).format(
                word=escape(str(exc.args[0])), services=", ".join(code for code, _name in services)
            )
        )
        return
    if day is None or not reason:
        await message.reply_text(
            usage("fermeture", services=", ".join(code for code, _name in services))
        )
        return
    if (
        utf16_len(reason) > CLOSURE_REASON_LIMIT
    ):  # refused whole: kept and told to families, never cut
        await message.reply_text(
            _(
                "The reason is {length} characters long; {limit} at most. Nothing was closed."
            ).format(length=utf16_len(reason), limit=CLOSURE_REASON_LIMIT)
        )
        return
    preview = await preview_closure(
        runtime.database,
        runtime.structure,
        day=day,
        service_code=service_code,
        today=runtime.today(),
    )
    refusal = _closure_refusal(preview.outcome, day, preview.service_name)
    if refusal is not None:
        await message.reply_text(refusal)
        return
    drafts = (
        context.chat_data.setdefault(CLOSURE_DRAFTS_KEY, {})
        if context.chat_data is not None
        else {}
    )
    while len(drafts) >= MAX_CLOSURE_DRAFTS:
        drafts.pop(next(iter(drafts)))
    token = secrets.token_hex(4)
    drafts[token] = {"day": day.isoformat(), "service": service_code, "reason": reason}
    where = escape(preview.service_name) if preview.service_name else _("the whole structure")
    lines = [
        _("🚫 Close {day}, {where}?").format(day=format_day(day), where=where),
        _("Reason: {reason}").format(reason=escape(reason)),
        ngettext(
            "{count} booking will be cancelled without charge",
            "{count} bookings will be cancelled without charge",
            preview.bookings,
        ).format(count=preview.bookings)
        + " "
        + ngettext("({count} family told).", "({count} families told).", preview.families).format(
            count=preview.families
        ),
    ]
    if preview.pending_requests:
        lines.append(
            ngettext(
                "{count} pending request will be cancelled.",
                "{count} pending requests will be cancelled.",
                preview.pending_requests,
            ).format(count=preview.pending_requests)
        )
    if not preview.runs:
        lines.append(
            _("⚠️ Nothing runs that day for {where}: is it the right date?").format(where=where)
        )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("✅ Close"),
                    callback_data=callbacks.build(callbacks.STAFF_CLOSURE, "yes", token),
                ),
                InlineKeyboardButton(
                    _("✖️ Cancel"),
                    callback_data=callbacks.build(callbacks.STAFF_CLOSURE, "no", token),
                ),
            ]
        ]
    )
    await message.reply_text("\n".join(lines), reply_markup=keyboard)


CLOSURE_DRAFTS_KEY = "closure_drafts"
"""chat_data key: {token: the /fermeture waiting for staff's confirmation} (persisted)."""
MAX_CLOSURE_DRAFTS = 20


def _closure_refusal(outcome: ClosureOutcome, day: dt.date, service_name: str | None) -> str | None:
    where = escape(service_name) if service_name else _("the whole structure")
    if outcome == ClosureOutcome.PAST_DAY:
        return _("{day} is past: it cannot be closed.").format(day=format_day(day))
    if outcome == ClosureOutcome.ALREADY_CLOSED:
        return _("{day} is already closed for {where}.").format(day=format_day(day), where=where)
    if outcome == ClosureOutcome.UNKNOWN_SERVICE:
        return _("Unknown service.")
    return None


@staff_action("staff.close_day")
async def close_confirm(update: Update, context: Context) -> None:
    """✅ Fermer / ✖️ Annuler under a /fermeture preview; a draft is used once."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None:
        return
    drafts = context.chat_data.get(CLOSURE_DRAFTS_KEY, {}) if context.chat_data is not None else {}
    draft = drafts.pop(parsed.arg(1), None)
    if draft is None:
        await answer_query(
            update, _("This closure was already recorded or cancelled."), show_alert=True
        )
        return
    await answer_query(update)
    if parsed.arg(0) != "yes":
        await query.edit_message_text(_("Closure cancelled: nothing was closed."))
        return
    runtime = get_runtime(context)
    day, service_code, reason = (
        dt.date.fromisoformat(draft["day"]),
        draft["service"],
        draft["reason"],
    )
    service_name = next(
        (s.name for s in runtime.structure.services if s.code == service_code), None
    )
    with staff_language():
        notice = closure_notice(day, service_name, reason)
    result = await close_day(
        runtime.database,
        day=day,
        service_code=service_code,
        reason=reason,
        staff_id=user_id_of(update),
        now=runtime.now(),
        today=runtime.today(),
        notice_body=notice,
    )
    refusal = _closure_refusal(result.outcome, day, result.service_name)
    await query.edit_message_text(
        refusal if refusal is not None else _closure_report(result, reason)
    )


def _closure_report(result: ClosureResult, reason: str) -> str:
    day = result.day
    where = escape(result.service_name) if result.service_name else _("the whole structure")
    lines = [
        _("🚫 Closure recorded: {day}, {where}.").format(day=format_day(day), where=where),
        _("Reason: {reason}").format(reason=escape(reason)),
        ngettext(
            "{count} booking cancelled without charge.",
            "{count} bookings cancelled without charge.",
            result.cancelled,
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
    return "\n".join(lines)


@staff_action("staff.reopen_day")
async def reopen(update: Update, context: Context) -> None:
    """/reouvrir DATE [service]: lift a closure and restore what it cancelled."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    words = command_text(update).split()
    services = [(s.code, s.name) for s in runtime.structure.services]
    day = parse_day(words[0], runtime.today()) if words else None
    service_code = match_service(" ".join(words[1:]), services) if len(words) > 1 else None
    if day is None or (len(words) > 1 and service_code is None):
        await message.reply_text(
            usage("reouvrir", services=", ".join(code for code, _name in services))
        )
        return
    result = await reopen_day(
        runtime.database,
        day=day,
        service_code=service_code,
        staff_id=user_id_of(update),
        now=runtime.now(),
        today=runtime.today(),
    )
    where = escape(result.service_name) if result.service_name else _("the whole structure")
    if result.outcome == ReopenOutcome.PAST_DAY:
        await message.reply_text(
            _("{day} is past: it cannot be reopened.").format(day=format_day(day))
        )
    elif result.outcome == ReopenOutcome.NOT_CLOSED:
        await message.reply_text(
            _("{day} is not closed for {where}.").format(day=format_day(day), where=where)
        )
    elif result.outcome == ReopenOutcome.UNKNOWN_SERVICE:
        await message.reply_text(_("Unknown service."))
    else:
        lines = [
            _("✅ {day} reopened for {where}.").format(day=format_day(day), where=where),
            ngettext(
                "{count} booking restored.", "{count} bookings restored.", result.restored
            ).format(count=result.restored),
            ngettext("{count} family told.", "{count} families told.", result.families).format(
                count=result.families
            ),
        ]
        if result.restored_requests:
            lines.append(
                ngettext(
                    "{count} request is pending again.",
                    "{count} requests are pending again.",
                    result.restored_requests,
                ).format(count=result.restored_requests)
            )
        await message.reply_text("\n".join(lines))


def reopening_text(day: dt.date, service_name: str | None, bookings: list[tuple[str, str]]) -> str:
    """What a family reads when a closed day reopens (in the parent's language): its bookings back."""
    where = escape(service_name) if service_name else _("the whole structure")
    lines = [
        _("✅ <b>{day} is open again</b> ({where})").format(day=format_day(day), where=where),
        "",
        _("These bookings are restored:"),
    ]
    lines += [f"• {escape(child)} — {escape(service)}" for child, service in bookings]
    return "\n".join(lines)


@template(TEMPLATE_REOPENED)
async def _reopening_notice(runtime: Runtime, params: Params) -> Outgoing:
    """A family's bookings restored by a reopening (see `TEMPLATE_REOPENED`)."""
    bookings = [(str(child), str(service)) for child, service in params["bookings"]]
    return Outgoing(
        reopening_text(dt.date.fromisoformat(params["day"]), params.get("service"), bookings)
    )


def closure_notice(day: dt.date, service_name: str | None, reason: str) -> str:
    """The closure as kept in families' inboxes (plain text)."""
    where = service_name or _("the whole structure")
    return _(
        "Closure on {day} ({where}): {reason}. Bookings of that day are cancelled without charge."
    ).format(day=format_day(day), where=where, reason=reason)


def closure_text(
    day: dt.date, service_name: str | None, reason: str, bookings: list[tuple[str, str]]
) -> str:
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
    return Outgoing(
        closure_text(
            dt.date.fromisoformat(params["day"]), params.get("service"), params["reason"], bookings
        )
    )


# --- /effectifs ------------------------------------------------------------------------------


@staff_action("staff.headcount")
async def headcount_command(update: Update, context: Context) -> None:
    """/effectifs [DATE]: who is expected per service (tomorrow by default), and a CSV of names."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    argument = command_text(update)
    day = (
        parse_day_words(argument, runtime.today())
        if argument
        else runtime.today() + dt.timedelta(days=1)
    )
    if day is None:
        await message.reply_text(day_error(argument, runtime.today()) + "\n\n" + usage("effectifs"))
        return
    counted = await staff_headcount(
        runtime.database, day, staff_id=user_id_of(update), now=runtime.now()
    )
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
        if service.pending:
            line += " " + ngettext(
                "+ {count} pending", "+ {count} pending", service.pending
            ).format(count=service.pending)
        if service.code in counted.closed:
            line += " — " + _("closed")
        if service.with_allergies:
            line += " — " + ngettext(
                "⚠️ {count} allergy", "⚠️ {count} allergies", len(service.with_allergies)
            ).format(count=len(service.with_allergies))
        lines.append(line)
    allergic = [
        (service, child) for service in counted.services for child in service.with_allergies
    ]
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
    writer = safe_writer(buffer, delimiter=";", lineterminator="\r\n")  # no cell runs as a formula
    writer.writerow(
        [
            _("Date"),
            _("Service"),
            _("Last name"),
            _("First name"),
            _("School"),
            _("Class"),
            _("Status"),
            _("Allergies"),
        ]
    )
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
    typed = command_text(update)
    if not typed:
        await message.reply_text(usage("famille"))
        return
    number = await family_argument(update, context, "famille", typed)
    if number is not None:
        await show_family(update, context, number, "")


async def show_family(update: Update, context: Context, number: str, rest: str = "") -> None:
    """The family sheet of a N° famille (also after choosing among several of a name)."""
    message = update.effective_message
    if message is None:
        return
    runtime = get_runtime(context)
    since = runtime.now() - dt.timedelta(days=RECENT_REQUEST_DAYS)
    sheet = await family_sheet(
        runtime.database, number, since=since, staff_id=user_id_of(update), now=runtime.now()
    )
    if sheet is None:
        await message.reply_text(
            _("No family has the number {number}.").format(number=escape(number))
        )
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
    names = await telegram_names(
        context.bot, [account.telegram_user_id for account in sheet.accounts]
    )
    text = family_text(sheet, runtime, names)
    await message.reply_text(text, reply_markup=InlineKeyboardMarkup(buttons) if buttons else None)


def family_text(sheet: FamilySheet, runtime: Runtime, names: dict[int, str] | None = None) -> str:
    """The staff's view of a family."""
    tz = runtime.settings.tz
    family = sheet.family
    lines = [
        _("👪 <b>{name} family</b> — family no. {number}").format(
            name=escape(sheet.name or "—"), number=escape(family.number)
        )
    ]
    lines += _guardian_lines(_("Responsable"), sheet.responsable)
    if sheet.conjoint is not None:
        lines += _guardian_lines(_("Spouse / partner"), sheet.conjoint)
    regime = family.regime.value.upper() if family.regime else "—"
    lines.append(
        _("Scheme: {regime} — allocataire no. {caf} — quotient familial {qf}").format(
            regime=regime,
            caf=escape(family.caf_number or "—"),
            qf=format_money(family.quotient_familial)
            if family.quotient_familial is not None
            else "—",
        )
    )
    balance = _("Balance: {amount}").format(amount=format_money(sheet.balance))
    if sheet.unpaid_invoices:
        balance += " — " + ngettext(
            "{count} unpaid invoice", "{count} unpaid invoices", sheet.unpaid_invoices
        ).format(count=sheet.unpaid_invoices)
    lines += [balance, "", _("<b>Children</b>")]
    if not sheet.children:
        lines.append(_("No child recorded."))
    for item in sheet.children:
        child = item.child
        born = format_short_date(child.birth_date) if child.birth_date else "—"
        line = by_sex(
            child.sex,
            female=pgettext("female", "• {first} {last}, born {born} — {class_name}, {school}"),
            male=pgettext("male", "• {first} {last}, born {born} — {class_name}, {school}"),
            unknown=_("• {first} {last}, born {born} — {class_name}, {school}"),
        ).format(
            first=escape(child.first_name),
            last=escape(child.last_name),
            born=born,
            class_name=escape(child.class_name or "—"),
            school=escape(child.school or "—"),
        )
        if item.allergies:
            line += " — " + _("⚠️ allergies: {items}").format(
                items=escape(", ".join(item.allergies))
            )
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
        if request.refusal_reason:
            line += f" ({escape(request.refusal_reason)})"
        lines.append(line)
    lines += ["", _("<b>Linked Telegram accounts</b>")]
    if not sheet.accounts:
        lines.append(
            _("None: send /invite {number} to invite the family.").format(number=family.number)
        )
    for account in sheet.accounts:
        line = _("• account {user}, linked on {date} ({via})").format(
            user=_person(account.telegram_user_id, names or {}),
            date=format_short_date(account.linked_at.astimezone(tz).date()),
            via=_("invitation") if account.linked_by == "invite" else _("phone number"),
        )
        if account.unreachable_since is not None:
            line += " — " + _("⚠️ unreachable since {date}").format(
                date=format_short_date(account.unreachable_since.astimezone(tz).date())
            )
        lines.append(line)
    return "\n".join(lines)


def _person(user_id: int, names: dict[int, str]) -> str:
    """ "Jean Dupont (101)", or the id alone when Telegram gave no name."""
    name = names.get(user_id)
    return f"{escape(name)} ({user_id})" if name else str(user_id)


def _guardian_lines(title: str, guardian: Guardian | None) -> list[str]:
    if guardian is None:
        return []
    phones = ", ".join(
        p for p in (guardian.phone_mobile, guardian.phone_home, guardian.phone_work) if p
    )
    address = " ".join(p for p in (guardian.address, guardian.postal_code, guardian.city) if p)
    return [
        f"<b>{escape(title)}</b> : {escape(guardian.civility or '')} {escape(guardian.first_name)} {escape(guardian.last_name)}".replace(
            "  ", " "
        ),
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
        await answer_query(update)
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("Yes, unlink"),
                        callback_data=callbacks.build(callbacks.STAFF_LINK, "yes", link_id),
                    ),
                    InlineKeyboardButton(
                        _("No"), callback_data=callbacks.build(callbacks.STAFF_LINK, "no", link_id)
                    ),
                ]
            ]
        )
        await query.message.reply_text(
            _(
                "Unlink this Telegram account from the family? The parent will no longer see the family's data."
            ),
            reply_markup=keyboard,
        )
        return
    if operation != "yes":
        await answer_query(update)
        await query.edit_message_text(_("Nothing changed."))
        return
    runtime = get_runtime(context)
    revoked = await revoke_link(
        runtime.database, link_id, staff_id=user_id_of(update), now=runtime.now()
    )
    if revoked is None:
        await answer_query(update, _("This account is already unlinked."), show_alert=True)
        return
    await answer_query(update)
    await query.edit_message_text(
        _("🔗 Account {user} unlinked from family no. {number}.").format(
            user=revoked.telegram_user_id, number=escape(revoked.family_number)
        )
    )


@template(TEMPLATE_UNLINKED)
async def _unlinked_notice(runtime: Runtime, params: Params) -> Outgoing:
    """Told to the account staff just unlinked."""
    return Outgoing(
        _(
            "Your Telegram account is no longer linked to your family. Contact the structure if this is a mistake."
        )
    )


register_pick("famille", show_family)
register_pick("invite", send_invite)


def build_handlers() -> list[AnyHandler]:
    """The staff's day commands."""
    return [
        CommandHandler("invite", invite),
        CommandHandler("fermeture", close),
        CallbackQueryHandler(close_confirm, pattern=callbacks.pattern(callbacks.STAFF_CLOSURE)),
        CommandHandler("reouvrir", reopen),
        CommandHandler("effectifs", headcount_command),
        CommandHandler("famille", family),
        CallbackQueryHandler(link_button, pattern=callbacks.pattern(callbacks.STAFF_LINK)),
    ]
