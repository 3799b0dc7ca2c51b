"""What reminders are due now, computed from the database, and the log that sends each once.

Nothing is scheduled in memory: every tick asks "what is due at this instant?" from deadlines,
enrolments, bookings, invoices, boosters and preferences, minus what the reminder log already
holds. After a restart the bot therefore sends what became due while it was down, while it is
still useful, and never what was already sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.domain.custody import in_custody
from bot.domain.model import PLACE_HOLDING_STATUSES
from bot.domain.reminders import (
    DEFAULT_OFFSETS_HOURS,
    PARENT_KINDS,
    Daytime,
    DeadlineGroup,
    ReminderKind,
    ReminderLine,
    date_reminder_due,
    deadline_groups,
    digest_due,
    due_offset,
    fold_companions,
    headcount_due,
)
from bot.domain.rules import InBookingWindow
from bot.services.bookings import Planning, load_planning
from bot.services.outbox import (
    ACCOUNT,
    STAFF,
    Priority,
    plain,
    queue_many,
    revive,
    tell_staff,
)
from bot.services.staff_day import Headcount, headcount
from bot.services.use_case import use_case
from bot.structure import Structure
from storage.db import Database, UnitOfWork
from storage.models import utcnow
from storage.outbox_repository import NewMessage

REMINDER_TEMPLATE = "reminders.reminder"
STAFF_KINDS = frozenset({ReminderKind.HEADCOUNT, ReminderKind.DIGEST})


@dataclass(frozen=True)
class ReminderSettings:
    """How far ahead to look and when date reminders start."""

    horizon_days: int = 60
    headcount_grace: dt.timedelta = dt.timedelta(hours=6)
    digest_at: dt.time = dt.time(8, 0)
    invoice_days_before: int = 3
    vaccine_days_before: int = 14
    kinds: frozenset[ReminderKind] = frozenset(ReminderKind)


@dataclass(frozen=True)
class Reminder:
    """One message to send once: its kind, recipient (account or admin chat) and subject."""

    kind: ReminderKind
    recipient: int
    subject: str
    language: str | None = None
    family_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


async def due_reminders(
    uow: UnitOfWork,
    structure: Structure,
    tz: dt.tzinfo,
    now: dt.datetime,
    *,
    admin_chat_id: int | None,
    settings: ReminderSettings = ReminderSettings(),
) -> list[Reminder]:
    """Every reminder due at `now` that the log does not hold yet."""
    today = now.astimezone(tz).date()
    planning = await load_planning(
        uow, structure, tz, today, today + dt.timedelta(days=settings.horizon_days)
    )
    found: list[Reminder] = []
    groups = _groups(planning, today, settings)
    found += await _booking_reminders(uow, planning, groups, now)
    found += await _window_reminders(uow, planning, now)
    if admin_chat_id is not None:
        found += _headcount_reminders(groups, now, admin_chat_id, settings)
        found += await _digest_reminder(
            uow, now.astimezone(tz), admin_chat_id, settings, structure.daytime
        )
    found += await _invoice_reminders(uow, today, settings)
    found += await _vaccine_reminders(uow, today, settings)
    return await _not_yet_logged(uow, [r for r in found if r.kind in settings.kinds])


@dataclass(frozen=True)
class QueuedReminders:
    """What one tick found due and queued."""

    due: int
    keys: list[str]
    """The outbox dedupe keys of the messages queued (one per reminder)."""


async def queue_due_reminders(
    db: Database,
    structure: Structure,
    tz: dt.tzinfo,
    now: dt.datetime,
    *,
    admin_chat_id: int | None,
    settings: ReminderSettings = ReminderSettings(),
) -> QueuedReminders:
    """Find what is due, record each reminder once in the log and queue its message, in one
    transaction: two processes ticking together queue each reminder once."""
    async with use_case(db) as uow:
        reminders = await due_reminders(
            uow, structure, tz, now, admin_chat_id=admin_chat_id, settings=settings
        )
        messages = [
            _outbox_message(log_id, reminder, now)
            for log_id, reminder in await claim(uow, reminders, now)
        ]
        await queue_many(uow, messages)
        if admin_chat_id is not None:
            await _tell_staff_of_undelivered(uow, now)
    return QueuedReminders(len(reminders), [m.dedupe_key for m in messages if m.dedupe_key])


UNDELIVERED_TEMPLATE = "reminders.undelivered"
UNDELIVERED_LOOKBACK = dt.timedelta(days=1)
UNDELIVERED_SETTLE = dt.timedelta(minutes=2)
"""A cutoff is reported this long after it passed, once the sender has ended its last rows."""


async def _tell_staff_of_undelivered(uow: UnitOfWork, now: dt.datetime) -> None:
    """One message to the admin group per cutoff whose reminders could not all be delivered
    before it (Telegram unreachable until then, or refused): how many, never who."""
    for cutoff, count in await uow.repos.outbox.undelivered(
        REMINDER_TEMPLATE, now - UNDELIVERED_LOOKBACK, now - UNDELIVERED_SETTLE
    ):
        await tell_staff(
            uow,
            UNDELIVERED_TEMPLATE,
            {"cutoff": plain(cutoff), "count": count},
            now=now,
            priority=Priority.REMINDER,
            dedupe_key=f"reminders-undelivered:{cutoff.astimezone(dt.UTC):%Y%m%dT%H%M}",
        )


def _outbox_message(log_id: int, reminder: Reminder, now: dt.datetime) -> NewMessage:
    staff = reminder.kind in STAFF_KINDS
    return NewMessage(
        audience=STAFF if staff else ACCOUNT,
        chat_id=None if staff else reminder.recipient,
        template=REMINDER_TEMPLATE,
        params={
            "log_id": log_id,
            "kind": reminder.kind.value,
            "recipient": reminder.recipient,
            "subject": reminder.subject,
            "family_id": reminder.family_id,
            "details": plain(reminder.details),
        },
        language=reminder.language,
        priority=int(Priority.REMINDER),
        available_at=now,
        family_id=reminder.family_id,
        expires_at=_useful_until(reminder),
        dedupe_key=f"reminder:{log_id}",
    )


def _useful_until(reminder: Reminder) -> dt.datetime | None:
    """After its cutoff a booking reminder is pointless; after closing, a window's opening too."""
    if reminder.kind == ReminderKind.BOOKING:
        deadline: dt.datetime = reminder.details["deadline"]
        return deadline
    if reminder.kind == ReminderKind.WINDOW_OPEN:
        closes_at: dt.datetime = reminder.details["closes_at"]
        return closes_at
    return None


def reminder_from(params: dict[str, Any]) -> Reminder:
    """The reminder an outbox row was queued for."""
    return Reminder(
        ReminderKind(params["kind"]),
        params["recipient"],
        params["subject"],
        family_id=params.get("family_id"),
        details=revive(params["details"]),
    )


async def mark_reminder_sent(
    uow: UnitOfWork, params: dict[str, Any], message_ids: Sequence[int]
) -> None:
    """The reminder's message went out (recorded in the log beside its claim)."""
    await uow.repos.reminders.mark_sent([params["log_id"]], utcnow())


async def headcounts_of(db: Database, days: Sequence[dt.date]) -> list[Headcount]:
    """The headcount of each day, read when the staff's reminder is sent."""
    async with use_case(db) as uow:
        return [await headcount(uow, day) for day in days]


async def claim(
    uow: UnitOfWork, reminders: Sequence[Reminder], now: dt.datetime
) -> list[tuple[int, Reminder]]:
    """Record reminders before sending them; return (log id, reminder) for those this call got
    (the others were already recorded, by this process or another)."""
    got = await uow.repos.reminders.claim(
        [(r.kind.value, r.recipient, r.subject) for r in reminders], now
    )
    return [
        (got[key], r) for r in reminders if (key := (r.kind.value, r.recipient, r.subject)) in got
    ]


async def mark_sent(uow: UnitOfWork, log_ids: Sequence[int], now: dt.datetime) -> None:
    """These reminders reached Telegram."""
    await uow.repos.reminders.mark_sent(log_ids, now)


def _groups(planning: Planning, today: dt.date, settings: ReminderSettings) -> list[DeadlineGroup]:
    last = today + dt.timedelta(days=settings.horizon_days)
    groups = []
    for service in planning.structure.services:
        groups += deadline_groups(
            service, today, last, calendar=planning.calendar, windows=planning.windows
        )
    return groups


async def _booking_reminders(
    uow: UnitOfWork, planning: Planning, groups: list[DeadlineGroup], now: dt.datetime
) -> list[Reminder]:
    """One reminder per account and cutoff (and offset), listing each service's children with
    nothing booked on the days it closes; the goûter rides along with the garderie du soir."""
    structure = planning.structure
    lines: dict[tuple[int, dt.datetime, int], list[ReminderLine]] = {}
    who: dict[int, tuple[str | None, int]] = {}
    for group in groups:
        config = planning.service(group.service_code)
        offset = due_offset(
            group.deadline,
            config.reminder_offsets or DEFAULT_OFFSETS_HOURS,
            now,
            daytime=structure.daytime,
            tz=planning.calendar.tz,
        )
        if offset is None:
            continue
        service = await uow.repos.structure.service_by_code(group.service_code)
        if service is None:
            continue
        rows = await uow.repos.reminders.unbooked_enrolled(
            ReminderKind.BOOKING.value,
            service.id,
            group.first_day,
            group.last_day,
            PLACE_HOLDING_STATUSES,
        )
        opted_out = await uow.repos.reminders.opted_out(booking_service_kind(group.service_code))
        children_by_account: dict[tuple[int, str | None, int], list[tuple[int, str]]] = {}
        for account, language, family_id, child_id, first_name, custody, reference in rows:
            if account in opted_out:
                continue
            if any(
                in_custody(custody, day, reference) for day in group.days
            ):  # this foyer's weeks only
                children_by_account.setdefault((account, language, family_id), []).append(
                    (child_id, first_name)
                )
        for (account, language, family_id), children in children_by_account.items():
            who[account] = (language, family_id)
            lines.setdefault((account, group.deadline, offset), []).append(
                ReminderLine(group.service_code, group.days, tuple(children))
            )
    requires = {s.code: s.rules.requires for s in structure.services}
    order = [s.code for s in structure.services]
    reminders = []
    for (account, deadline, offset), found in lines.items():
        language, family_id = who[account]
        folded = fold_companions(found, requires, order)
        reminders.append(
            Reminder(
                ReminderKind.BOOKING,
                account,
                f"{deadline.astimezone(dt.UTC):%Y%m%dT%H%M}:{offset}h",
                language,
                family_id,
                {
                    "deadline": deadline,
                    "lines": [
                        {
                            "service": line.service_code,
                            "along": list(line.along),
                            "days": list(line.days),
                            "children": [list(c) for c in line.children],
                        }
                        for line in folded
                    ],
                },
            )
        )
    return reminders


def booking_service_kind(service_code: str) -> str:
    """The preference key of one service's booking reminders (`reminder_preferences.kind`)."""
    return f"{ReminderKind.BOOKING.value}:{service_code}"


async def _window_reminders(
    uow: UnitOfWork, planning: Planning, now: dt.datetime
) -> list[Reminder]:
    reminders = []
    for window in planning.windows:
        if not window.opens_at <= now < window.closes_at:
            continue
        if not isinstance(planning.service(window.service_code).rules.booking, InBookingWindow):
            continue
        service = await uow.repos.structure.service_by_code(window.service_code)
        if service is None:
            continue
        subject = f"{window.service_code}:{window.period_start:%Y%m%d}:{window.opens_at.astimezone(dt.UTC):%Y%m%dT%H%M}"
        for account, language, family_id in await uow.repos.reminders.enrolled_accounts(
            ReminderKind.WINDOW_OPEN.value, service.id, window.period_start, window.period_end
        ):
            reminders.append(
                Reminder(
                    ReminderKind.WINDOW_OPEN,
                    account,
                    subject,
                    language,
                    family_id,
                    {
                        "service": window.service_code,
                        "first": window.period_start,
                        "last": window.period_end,
                        "closes_at": window.closes_at,
                    },
                )
            )
    return reminders


def _headcount_reminders(
    groups: list[DeadlineGroup], now: dt.datetime, admin_chat_id: int, settings: ReminderSettings
) -> list[Reminder]:
    return [
        Reminder(
            ReminderKind.HEADCOUNT,
            admin_chat_id,
            group.subject(),
            details={"service": group.service_code, "days": group.days},
        )
        for group in groups
        if headcount_due(group.deadline, now, settings.headcount_grace)
    ]


async def _digest_reminder(
    uow: UnitOfWork,
    now_local: dt.datetime,
    admin_chat_id: int,
    settings: ReminderSettings,
    daytime: Daytime,
) -> list[Reminder]:
    if not digest_due(now_local, settings.digest_at, daytime.end):
        return []
    pending = await uow.repos.requests.pending()
    if not pending:
        return []
    return [
        Reminder(
            ReminderKind.DIGEST,
            admin_chat_id,
            f"{now_local.date():%Y%m%d}",
            details={"request_ids": [r.id for r in pending]},
        )
    ]


async def _invoice_reminders(
    uow: UnitOfWork, today: dt.date, settings: ReminderSettings
) -> list[Reminder]:
    rows = await uow.repos.reminders.invoices_due_between(
        today, today + dt.timedelta(days=settings.invoice_days_before)
    )
    by_family: dict[int, list[Any]] = {invoice.family_id: [] for invoice, _due in rows}
    for invoice, due in rows:
        by_family[invoice.family_id].append((invoice, due))
    reminders = []
    accounts = await uow.repos.reminders.accounts_of_families(
        ReminderKind.INVOICE.value, list(by_family)
    )
    for account, language, family_id in accounts:
        for invoice, due in by_family[family_id]:
            if date_reminder_due(invoice.due_on, today, settings.invoice_days_before):
                reminders.append(
                    Reminder(
                        ReminderKind.INVOICE,
                        account,
                        invoice.number,
                        language,
                        family_id,
                        {
                            "number": invoice.number,
                            "due_on": invoice.due_on,
                            "amount": due,
                            "invoice_id": invoice.id,
                        },
                    )
                )
    return reminders


async def _vaccine_reminders(
    uow: UnitOfWork, today: dt.date, settings: ReminderSettings
) -> list[Reminder]:
    rows = await uow.repos.reminders.boosters_between(
        today, today + dt.timedelta(days=settings.vaccine_days_before)
    )
    reminders = []
    for vaccination, child, family_id in rows:
        for account, language, _family in await uow.repos.reminders.accounts_of_families(
            ReminderKind.VACCINE.value, [family_id]
        ):
            reminders.append(
                Reminder(
                    ReminderKind.VACCINE,
                    account,
                    f"{vaccination.id}:{vaccination.booster_on:%Y%m%d}",
                    language,
                    family_id,
                    {
                        "child": child.first_name,
                        "vaccine": vaccination.name,
                        "booster_on": vaccination.booster_on,
                    },
                )
            )
    return reminders


async def _not_yet_logged(uow: UnitOfWork, reminders: Sequence[Reminder]) -> list[Reminder]:
    result = []
    for kind in {r.kind for r in reminders}:
        of_kind = [r for r in reminders if r.kind == kind]
        logged = await uow.repos.reminders.logged(kind.value, sorted({r.subject for r in of_kind}))
        result += [r for r in of_kind if (r.recipient, r.subject) not in logged]
    return result


async def set_reminder_preference(
    uow: UnitOfWork, user_id: int, kind: ReminderKind | str, enabled: bool
) -> None:
    """Turn a kind of reminder (or one service's booking reminders, `booking_service_kind`) on or
    off for an account (/rappels)."""
    await uow.repos.reminders.set_preference(user_id, str(kind), enabled)


@dataclass(frozen=True)
class ServiceChoice:
    """Whether an account gets the booking reminders of one service."""

    service_id: int
    code: str
    name: str
    enabled: bool


@dataclass(frozen=True)
class ReminderChoices:
    """What /rappels shows: each parent kind of reminder, and each service's booking reminders."""

    kinds: dict[ReminderKind, bool]
    services: tuple[ServiceChoice, ...] = ()


MAX_SERVICE_CODE = 32 - len(f"{ReminderKind.BOOKING.value}:")
"""Longest service code whose preference fits `reminder_preferences.kind` (String(32))."""


async def reminder_preferences(uow: UnitOfWork, user_id: int) -> ReminderChoices:
    """Each parent kind of reminder with whether it is on, and each active service's."""
    stored = await uow.repos.reminders.preferences(user_id)
    services = tuple(
        ServiceChoice(
            service.id,
            service.code,
            service.name,
            stored.get(booking_service_kind(service.code), True),
        )
        for service in await uow.repos.structure.services()
        if service.active and len(service.code) <= MAX_SERVICE_CODE
    )
    return ReminderChoices({kind: stored.get(kind.value, True) for kind in PARENT_KINDS}, services)
