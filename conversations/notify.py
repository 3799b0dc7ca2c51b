"""Telling families: one message to every linked account of a family, each in its own language.

`notify_family` is what a feature calls after committing a change a family must hear about
(a decision, a closure, a staff answer). Accounts that blocked the bot are skipped and noted
unreachable; the others still get the message. Large fan-outs (announcements) pass a `Pacer`
so they stay under Telegram's overall limit of about 30 messages a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.i18n import normalize_language, use_language
from bot.runtime import Runtime
from bot.services.notifications import Recipient, family_recipients, record_reachability

logger = logging.getLogger(__name__)

CAPTION_LIMIT = 1000  # Telegram allows 1024 characters of caption; keep a margin for markup
TextBuilder = Callable[[], str]
KeyboardBuilder = Callable[[], InlineKeyboardMarkup | None]


@dataclass(frozen=True)
class Attachment:
    """A file already on Telegram's servers, sent again by its file_id."""

    file_id: str
    kind: str  # "photo" or "document"


@dataclass
class DeliveryReport:
    """Who got a message."""

    reached: list[int] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)
    failed: int = 0

    def merge(self, other: DeliveryReport) -> None:
        """Add another report's figures to this one."""
        self.reached += other.reached
        self.unreachable += other.unreachable
        self.failed += other.failed


class Pacer:
    """At most `rate` sends in any `period` seconds (a sliding window), waiting when needed."""

    def __init__(self, rate: int, period: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.period, self._clock = rate, period, clock
        self._sent: deque[float] = deque()

    async def wait(self) -> None:
        """Return when one more send fits in the window, and count it."""
        while True:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.period:
                self._sent.popleft()
            if len(self._sent) < self.rate:
                self._sent.append(now)
                return
            await asyncio.sleep(self._sent[0] + self.period - now + 0.01)


async def send_to_recipients(
    bot: Any,
    recipients: Sequence[Recipient],
    text: TextBuilder,
    *,
    keyboard: KeyboardBuilder | None = None,
    attachment: Attachment | None = None,
    pacer: Pacer | None = None,
) -> DeliveryReport:
    """Send to each account in its language; a blocked account does not stop the others."""
    report = DeliveryReport()
    for recipient in recipients:
        if pacer is not None:
            await pacer.wait()
        with use_language(normalize_language(recipient.language)):
            body, markup = text(), keyboard() if keyboard is not None else None
        try:
            await _send(bot, recipient.telegram_user_id, body, markup, attachment)
        except Forbidden:
            report.unreachable.append(recipient.telegram_user_id)
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                report.unreachable.append(recipient.telegram_user_id)
            else:
                logger.warning("could not notify account %s: %s", recipient.telegram_user_id, type(exc).__name__)
                report.failed += 1
        except TelegramError as exc:
            logger.warning("could not notify account %s: %s", recipient.telegram_user_id, type(exc).__name__)
            report.failed += 1
        else:
            report.reached.append(recipient.telegram_user_id)
    return report


async def notify_family(
    bot: Any,
    runtime: Runtime,
    family_id: int,
    text: TextBuilder,
    *,
    keyboard: KeyboardBuilder | None = None,
    attachment: Attachment | None = None,
    recipients: Sequence[Recipient] | None = None,
) -> DeliveryReport:
    """Tell every linked account of a family (call after committing what it is about).

    `text` and `keyboard` are called once per account, inside that account's language, so
    `_()` in them translates for each parent. Pass `recipients` when already loaded.
    """
    if recipients is None:
        async with runtime.database.unit_of_work() as uow:
            recipients = await family_recipients(uow, family_id)
    report = await send_to_recipients(bot, recipients, text, keyboard=keyboard, attachment=attachment)
    await remember_reachability(runtime, report)
    return report


async def remember_reachability(runtime: Runtime, report: DeliveryReport) -> None:
    """Store who blocked the bot and who is reachable again."""
    if not report.reached and not report.unreachable:
        return
    async with runtime.database.unit_of_work() as uow:
        await record_reachability(uow, reached=report.reached, unreachable=report.unreachable, now=runtime.now())
        await uow.commit()


async def _send(
    bot: Any, chat_id: int, text: str, markup: InlineKeyboardMarkup | None, attachment: Attachment | None
) -> None:
    if attachment is None:
        await bot.send_message(chat_id, text, reply_markup=markup)
        return
    caption: str | None = text
    if len(text) > CAPTION_LIMIT:
        await bot.send_message(chat_id, text)
        caption = None
    if attachment.kind == "photo":
        await bot.send_photo(chat_id, attachment.file_id, caption=caption, reply_markup=markup)
    else:
        await bot.send_document(chat_id, attachment.file_id, caption=caption, reply_markup=markup)
