"""The home screen (Accueil), the main menu tabs, and Déconnexion."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import callbacks
from bot.i18n import _, format_day, format_money, format_short_date, ngettext
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services import linking
from bot.services.home import HomeSummary, account_family, home_summary
from conversations.common import (
    TAB_LOGOUT,
    Context,
    answer_query,
    escape,
    main_menu_keyboard,
    parent_handler,
    show,
    user_id_of,
)

PRIVATE = filters.ChatType.PRIVATE
MAX_PDF_BUTTONS = 5
"""Unpaid invoices beyond these are in 💶 Relevé de compte (the home stays one screen)."""


@parent_handler
async def show_home(update: Update, context: Context) -> None:
    """/accueil or 🏠: render the home screen for the linked family."""
    await _home(update, context)


async def _home(update: Update, context: Context) -> None:
    runtime = get_runtime(context)
    await show_summary(update, runtime, await home_summary(runtime.database, user_id_of(update)))


async def show_summary(
    update: Update, runtime: Runtime, summary: HomeSummary, notice: str = ""
) -> None:
    """Show the Accueil of a summary already read (e.g. by the linking use case), `notice` on top."""
    user = update.effective_user
    text = render_home(
        summary, runtime.structure.announcement, runtime.today(), user.first_name if user else None
    )
    await show(update, f"{notice}\n\n{text}" if notice else text, home_keyboard(summary))


def home_keyboard(summary: HomeSummary) -> InlineKeyboardMarkup:
    """The unpaid invoices' PDF (one tap from home, as the seed's PDF icon), then the main menu."""
    menu = main_menu_keyboard()
    pdfs = [
        [
            InlineKeyboardButton(
                _("📄 {number} (PDF)").format(number=item.number),
                callback_data=callbacks.build(callbacks.INVOICE_PDF, item.invoice_id),
            )
        ]
        for item in summary.unpaid_invoices[:MAX_PDF_BUTTONS]
        if item.invoice_id
    ]
    return InlineKeyboardMarkup([*pdfs, *menu.inline_keyboard])


def render_home(
    summary: HomeSummary, announcement: str, today: dt.date, account_first_name: str | None = None
) -> str:
    """The Accueil text: greeting, messages, balance, unpaid invoices, announcement."""
    name = summary.greeting_for(account_first_name)
    lines = [
        _("<b>Welcome {name}</b>").format(name=escape(name)) if name else _("<b>Welcome</b>"),
        ngettext(
            "You have {count} new message.",
            "You have {count} new messages.",
            summary.unread_messages,
        ).format(count=summary.unread_messages),
        _("Family number: {number} — {day}").format(
            number=summary.family_number, day=format_day(today)
        ),
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
        return _("Your account is in credit by {amount}.").format(
            amount=format_money(-summary.balance)
        )
    return _("Your account shows a balance of {amount}.").format(
        amount=format_money(summary.balance)
    )


@parent_handler(answers_itself=True)
async def open_tab(update: Update, context: Context) -> None:
    """A main menu button: show the tab, or say it is coming soon."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        await answer_query(update, _("This button is no longer valid."))
        return
    await account_family(get_runtime(context).database, user_id_of(update))
    if parsed.arg(0) == TAB_LOGOUT:
        await answer_query(update)
        await _ask_logout(update)
        return
    # Tabs with a feature of their own are taken by that feature's handler before this one.
    await answer_query(update, _("This part of the portal is coming soon."), show_alert=True)


@parent_handler
async def ask_logout(update: Update, context: Context) -> None:
    """/deconnexion: ask for confirmation before unlinking."""
    await account_family(get_runtime(context).database, user_id_of(update))
    await _ask_logout(update)


async def _ask_logout(update: Update) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("Yes, log out"), callback_data=callbacks.build(callbacks.LOGOUT, "yes")
                ),
                InlineKeyboardButton(
                    _("No"), callback_data=callbacks.build(callbacks.LOGOUT, "no")
                ),
            ]
        ]
    )
    await show(
        update,
        _(
            "Log out? This Telegram account will no longer be linked to your family. You can link it again later."
        ),
        keyboard,
    )


@parent_handler
async def confirm_logout(update: Update, context: Context) -> None:
    """Unlink after confirmation; "no" goes back home."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        return
    if parsed.arg(0) != "yes":
        await _home(update, context)
        return
    runtime = get_runtime(context)
    unlinked = await linking.unlink(runtime.database, user_id_of(update), runtime.now())
    if context.user_data is not None:
        context.user_data.clear()
    text = (
        _("You are logged out. Send /start to link your account again.")
        if unlinked
        else _("You were not linked.")
    )
    await show(update, text)


def build_handlers() -> list[AnyHandler]:
    """Handlers of the home screen and the main menu."""
    return [
        CommandHandler(["accueil", "menu", "home"], show_home, filters=PRIVATE),
        CommandHandler("deconnexion", ask_logout, filters=PRIVATE),
        CallbackQueryHandler(show_home, pattern=callbacks.pattern(callbacks.HOME)),
        CallbackQueryHandler(open_tab, pattern=callbacks.pattern(callbacks.MENU)),
        CallbackQueryHandler(confirm_logout, pattern=callbacks.pattern(callbacks.LOGOUT)),
    ]
