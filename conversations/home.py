"""The home screen (Accueil), the main menu tabs, and Déconnexion."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.i18n import _, format_day, format_money, format_short_date, ngettext
from bot.runtime import get_runtime
from bot.services import linking
from bot.services.home import HomeSummary, home_summary
from conversations.common import (
    TAB_LOGOUT,
    Context,
    escape,
    linked_family,
    main_menu_keyboard,
    show,
)

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
    if await linked_family(update, context) is None:
        return
    tab = parsed.arg(0)
    if tab == TAB_LOGOUT:
        await query.answer()
        await ask_logout(update, context)
        return
    # Tabs with a feature of their own are taken by that feature's handler before this one.
    await query.answer(_("This part of the portal is coming soon."), show_alert=True)


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
