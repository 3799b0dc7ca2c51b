"""The home screen (Accueil), the main menu tabs, Mon compte, Mes enfants, and Déconnexion."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.i18n import _, format_day, format_money, format_short_date, ngettext
from bot.runtime import get_runtime
from bot.services import linking
from bot.services.home import FamilyRecord, HomeSummary, family_record, home_summary
from conversations.common import (
    TAB_ACCOUNT,
    TAB_CHILDREN,
    TAB_LOGOUT,
    Context,
    back_to_home_keyboard,
    escape,
    linked_family,
    main_menu_keyboard,
    show,
)
from storage.models import Guardian

PRIVATE = filters.ChatType.PRIVATE


async def show_home(update: Update, context: Context) -> None:
    """Render the home screen for the linked family."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    family_id = await linked_family(update, context)
    if family_id is None:
        return
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        summary = await home_summary(uow, family_id)
    await show(update, render_home(summary, runtime.structure.announcement, runtime.today()), main_menu_keyboard())


def render_home(summary: HomeSummary, announcement: str, today: object) -> str:
    """The Accueil text: greeting, messages, balance, unpaid invoices, announcement."""
    lines = [
        _("<b>Welcome {name}</b>").format(name=escape(summary.greeting_name)),
        ngettext(
            "You have {count} new message.", "You have {count} new messages.", summary.unread_messages
        ).format(count=summary.unread_messages),
        _("Family number: {number} — {day}").format(number=summary.family_number, day=format_day(today)),  # type: ignore[arg-type]
        "",
        _render_balance(summary),
    ]
    if summary.unpaid_invoices:
        lines += ["", _("<b>Unpaid invoices</b>")]
        for item in summary.unpaid_invoices:
            lines.append(
                _("No. {number} of {issued}, due {due}: {amount}").format(
                    number=escape(item.number),
                    issued=format_short_date(item.issued_on),
                    due=format_short_date(item.due_on),
                    amount=format_money(item.amount_due),
                )
            )
        lines.append(_("Total: {amount}").format(amount=format_money(summary.unpaid_total)))
    if announcement:
        lines += ["", f"📢 {escape(announcement)}"]
    return "\n".join(lines)


def _render_balance(summary: HomeSummary) -> str:
    if summary.balance < 0:
        return _("Your account is in credit by {amount}.").format(amount=format_money(-summary.balance))
    return _("Your account shows a balance of {amount}.").format(amount=format_money(summary.balance))


async def open_tab(update: Update, context: Context) -> None:
    """A main menu button: show the tab, or say it is coming soon."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None:
        return
    family_id = await linked_family(update, context)
    if family_id is None:
        return
    tab = parsed.arg(0)
    if tab == TAB_LOGOUT:
        await query.answer()
        await ask_logout(update, context)
        return
    if tab not in (TAB_ACCOUNT, TAB_CHILDREN):
        await query.answer(_("This part of the portal is coming soon."), show_alert=True)
        return
    await query.answer()
    async with get_runtime(context).database.unit_of_work() as uow:
        record = await family_record(uow, family_id)
    structure = get_runtime(context).structure
    contact = ", ".join(part for part in (structure.phone, structure.email) if part)
    text = render_account(record, contact) if tab == TAB_ACCOUNT else render_children(record)
    await show(update, text, back_to_home_keyboard())


def render_account(record: FamilyRecord, contact: str) -> str:
    """Mon compte: the fiche famille (responsable, conjoint, fiscal and CAF information)."""
    family = record.family
    lines = [_("<b>My account</b> — family number {number}").format(number=family.number), ""]
    lines += _render_guardian(_("Responsable"), record.responsable)
    if record.conjoint is not None:
        lines += [""] + _render_guardian(_("Spouse / partner"), record.conjoint)
    regime = {"caf": "CAF", "msa": "MSA", "other": _("other")}.get(family.regime.value if family.regime else "", "—")
    lines += [
        "",
        _("<b>Tax information</b>: scheme {regime}").format(regime=regime),
        _("<b>CAF information</b>: allocataire no. {number}, {children} children").format(
            number=escape(family.caf_number or "—"), children=family.caf_children_count or 0
        ),
        _("<b>Bank details</b>: account holder {holder}, direct debit {debit}").format(
            holder=escape(family.account_holder or "—"), debit=_("yes") if family.direct_debit else _("no")
        ),
        "",
        _("To change these details, contact the structure: {contact}.").format(contact=escape(contact)),
    ]
    return "\n".join(lines)


def _render_guardian(title: str, guardian: Guardian | None) -> list[str]:
    if guardian is None:
        return [f"<b>{title}</b>: —"]
    address = " ".join(part for part in (guardian.address, guardian.postal_code, guardian.city) if part)
    phones = ", ".join(p for p in (guardian.phone_mobile, guardian.phone_home, guardian.phone_work) if p)
    return [
        f"<b>{title}</b>: {escape(guardian.civility or '')} {escape(guardian.first_name)} {escape(guardian.last_name)}",
        _("Address: {address}").format(address=escape(address or "—")),
        _("Phones: {phones}").format(phones=escape(phones or "—")),
        _("Email: {email}").format(email=escape(guardian.email or "—")),
        _("SMS authorisation: {sms} — email authorisation: {email}").format(
            sms=_("yes") if guardian.sms_consent else _("no"),
            email=_("yes") if guardian.email_consent else _("no"),
        ),
    ]


def render_children(record: FamilyRecord) -> str:
    """Mes enfants: each child's fiche (identity, school and class)."""
    if not record.children:
        return _("<b>My children</b>\n\nNo child is recorded for your family.")
    lines = [_("<b>My children</b>")]
    for child in record.children:
        born = format_day(child.birth_date) if child.birth_date else "—"
        lines += [
            "",
            f"<b>{escape(child.first_name)} {escape(child.last_name)}</b>",
            _("Born on {date}").format(date=born),
            _("School: {school} — class {class_name}").format(
                school=escape(child.school or "—"), class_name=escape(child.class_name or "—")
            ),
        ]
    return "\n".join(lines)


async def ask_logout(update: Update, context: Context) -> None:
    """Déconnexion: ask for confirmation before unlinking."""
    if await linked_family(update, context) is None:
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Yes, log out"), callback_data=callbacks.build(callbacks.LOGOUT, "yes")),
                InlineKeyboardButton(_("No"), callback_data=callbacks.build(callbacks.LOGOUT, "no")),
            ]
        ]
    )
    await show(
        update,
        _("Log out? This Telegram account will no longer be linked to your family. You can link it again later."),
        keyboard,
    )


async def confirm_logout(update: Update, context: Context) -> None:
    """Unlink after confirmation; "no" goes back home."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None or update.effective_user is None:
        return
    if parsed.arg(0) != "yes":
        await show_home(update, context)
        return
    await query.answer()
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        unlinked = await linking.unlink(uow, update.effective_user.id, runtime.now())
        await uow.commit()
    if context.user_data is not None:
        context.user_data.clear()
    text = _("You are logged out. Send /start to link your account again.") if unlinked else _("You were not linked.")
    await show(update, text)


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Handlers of the home screen and the main menu."""
    return [
        CommandHandler(["accueil", "menu", "home"], show_home, filters=PRIVATE),
        CommandHandler("deconnexion", ask_logout, filters=PRIVATE),
        CallbackQueryHandler(show_home, pattern=callbacks.pattern(callbacks.HOME)),
        CallbackQueryHandler(open_tab, pattern=callbacks.pattern(callbacks.MENU)),
        CallbackQueryHandler(confirm_logout, pattern=callbacks.pattern(callbacks.LOGOUT)),
    ]
