"""Issue 15: one structure's unit of work never reads, changes or deletes another's rows.

Two structures share one database, both seeded alike (tests/support/two_structures.py). Each
repository method is called from structure 2's unit of work with structure 1's ids, codes,
numbers and dates: nothing of structure 1 comes back, and structure 1's rows are intact
afterwards; the same call in structure 1's unit of work does find them (so each case can
fail). A completeness test names any public method without its case.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import event, exists, func, select
from sqlalchemy.exc import IntegrityError, NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.domain.model import DayStatus, HealthItemKind, RequestKind
from bot.structure import Structure
from storage.db import Database
from storage.handled_updates import HandledUpdateRepository
from storage.models import (
    BotState,
    Enrolment,
    Family,
    FamilyChild,
    FamilyImportSnapshot,
    Invite,
    Invoice,
    Message,
    OutboxMessage,
    Regie,
    ReminderLog,
    ReminderPreference,
    Request,
    Scoped,
    TelegramLink,
    TelegramUser,
    UnscopedWriteError,
)
from storage.outbox_repository import NewMessage
from storage.repositories import Repositories
from tests.support.two_structures import (
    CODE_HASH,
    DAY,
    NOW,
    SHARED_USER,
    TODAY,
    UPDATE_ID,
    YEAR_ENDS,
    Rows,
    two_structures,
)

Call = Callable[[Repositories, Rows], Awaitable[Any]]
Observe = Callable[[AsyncSession, Rows], Awaitable[Any]]
Check = Callable[[Any, Any, Rows, Rows], None]
LATER = DAY + dt.timedelta(days=14)
"""A day nobody booked (what the reminders of unbooked days look for)."""


@dataclass(frozen=True)
class Case:
    """One method called from structure 2 with structure 1's keys.

    `own`: structure 2 may answer with its own rows (a lookup by a code both structures
    use, or a list of everything); nothing of structure 1 may be in it. `observe`: for a
    method that writes, what it changes in structure 1 (the same before and after the call
    from structure 2, changed by the call from structure 1). `check`: a comparison of the two
    answers for a method answering plain values (`check(r1, r2, s1, s2)`).
    """

    method: str
    call: Call
    own: bool = False
    observe: Observe | None = None
    check: Check | None = None


def found(value: Any) -> bool:
    """Whether an answer holds anything (a row, a non-zero number, a non-empty collection)."""
    if value is None or value is False:
        return False
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value != 0
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(found(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (str, bytes, Mapping, list, tuple, set, frozenset)):
        return len(value) > 0
    try:
        return len(value) > 0
    except TypeError:
        return True


def foreign_rows(value: Any, structure_id: int) -> list[Any]:
    """The rows of another structure than `structure_id` anywhere in an answer."""
    leaks: list[Any] = []
    if isinstance(value, Scoped):
        if value.structure_id != structure_id:
            leaks.append(value)
    elif isinstance(value, Mapping):
        if "structure_id" in value and value["structure_id"] != structure_id:
            leaks.append(dict(value))
        for key, item in value.items():
            leaks += foreign_rows(key, structure_id) + foreign_rows(item, structure_id)
    elif isinstance(value, (list, tuple, set, frozenset)) or _is_row(value):
        for item in value:
            leaks += foreign_rows(item, structure_id)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            leaks += foreign_rows(getattr(value, field.name), structure_id)
    return leaks


def _is_row(value: Any) -> bool:
    return type(value).__name__ == "Row"


async def _column(session: AsyncSession, *columns: Any) -> list[Any]:
    """The values of some columns (the last arguments may be conditions), in a stable order."""
    selected = [c for c in columns if not _is_condition(c)]
    where = [c for c in columns if _is_condition(c)]
    rows = (await session.execute(select(*selected).where(*where))).all()
    return sorted((tuple(row) for row in rows), key=repr)


def _is_condition(clause: Any) -> bool:
    return not isinstance(clause, InstrumentedAttribute)


def _exactly(value: Any) -> Check:
    """Both structures hold one such row each: each answers `value`, of its own rows."""
    return lambda r1, r2, _s1, _s2: _assert(r1 == value and r2 == value)


# ---------------------------------------------------------------------------------------
# The cases, repository by repository. `s` is structure 1's rows.

CASES: list[Case] = [
    # families
    Case("families.get", lambda r, s: r.families.get(s.family_id)),
    Case(
        "families.get_by_number", lambda r, s: r.families.get_by_number(s.family_number), own=True
    ),
    Case(
        "families.count",
        lambda r, s: r.families.count(),
        own=True,
        check=lambda r1, r2, s1, s2: _assert(r1 == s1.family_count and r2 == s2.family_count),
    ),
    Case("families.children", lambda r, s: r.families.children(s.family_id)),
    # telegram
    Case("telegram.get_user", lambda r, s: r.telegram.get_user(s.user_id)),
    Case(
        "telegram.get_or_create_user",
        lambda r, s: r.telegram.get_or_create_user(s.user_id),
        own=True,
    ),
    Case("telegram.active_link", lambda r, s: r.telegram.active_link(s.user_id)),
    Case(
        "telegram.active_links_of_family",
        lambda r, s: r.telegram.active_links_of_family(s.family_id),
    ),
    Case(
        "telegram.recipients_of_family", lambda r, s: r.telegram.recipients_of_family(s.family_id)
    ),
    Case(
        "telegram.all_recipients",
        lambda r, s: r.telegram.all_recipients(),
        own=True,
        check=lambda r1, r2, s1, s2: _families_only(r2, 0, s2),
    ),
    Case("telegram.get_link", lambda r, s: r.telegram.get_link(s.link_id)),
    Case(
        "telegram.links_of_family_with_users",
        lambda r, s: r.telegram.links_of_family_with_users(s.family_id),
    ),
    Case(
        "telegram.revoke_links_of_user",
        lambda r, s: r.telegram.revoke_links_of_user(SHARED_USER, NOW),
        own=True,
        check=_exactly(1),
        observe=lambda db, s: _column(
            db, TelegramLink.revoked_at, TelegramLink.telegram_user_id == SHARED_USER
        ),
    ),
    Case(
        "telegram.mark_unreachable",
        lambda r, s: r.telegram.mark_unreachable([s.user_id], NOW),
        observe=lambda db, s: _column(
            db, TelegramUser.unreachable_since, TelegramUser.id == s.user_id
        ),
    ),
    Case(
        "telegram.mark_reachable",
        lambda r, s: r.telegram.mark_reachable([SHARED_USER]),
        observe=lambda db, s: _column(
            db, TelegramUser.unreachable_since, TelegramUser.id == SHARED_USER
        ),
    ),
    # invites
    Case(
        "invites.claim",
        lambda r, s: r.invites.claim(CODE_HASH, SHARED_USER, NOW),
        observe=lambda db, s: _column(db, Invite.used_at, Invite.code_hash == CODE_HASH),
    ),
    Case("invites.get_by_hash", lambda r, s: r.invites.get_by_hash(CODE_HASH)),
    # accounts
    Case("accounts.balance", lambda r, s: r.accounts.balance(s.family_id)),
    Case("accounts.unpaid_invoices", lambda r, s: r.accounts.unpaid_invoices(s.family_id)),
    Case("accounts.position", lambda r, s: r.accounts.position(s.family_id)),
    Case("accounts.invoices_of_family", lambda r, s: r.accounts.invoices_of_family(s.family_id)),
    Case("accounts.payments_of_family", lambda r, s: r.accounts.payments_of_family(s.family_id)),
    Case(
        "accounts.invoice_lines_of_family",
        lambda r, s: r.accounts.invoice_lines_of_family(s.family_id),
    ),
    Case("accounts.get_invoice", lambda r, s: r.accounts.get_invoice(s.invoice_id)),
    Case(
        "accounts.invoice_by_number",
        lambda r, s: r.accounts.invoice_by_number(s.invoice_number),
        own=True,
    ),
    Case(
        "accounts.invoice_exists",
        lambda r, s: r.accounts.invoice_exists(s.family_id, s.regie_id, s.invoice_period_start),
    ),
    Case(
        "accounts.payment_by_charge_id", lambda r, s: r.accounts.payment_by_charge_id(s.charge_id)
    ),
    Case("accounts.payment_by_number", lambda r, s: r.accounts.payment_by_number(s.payment_number)),
    Case(
        "accounts.payment_by_reference",
        lambda r, s: r.accounts.payment_by_reference(s.payment_reference),
    ),
    Case("accounts.regies_for_update", lambda r, s: r.accounts.regies_for_update(), own=True),
    Case(
        "accounts.next_invoice_number",
        lambda r, s: r.accounts.next_invoice_number(s.regie_id),
        observe=lambda db, s: _column(db, Regie.next_invoice_number, Regie.id == s.regie_id),
    ),
    Case(
        "accounts.next_payment_number",
        lambda r, s: r.accounts.next_payment_number(s.regie_id),
        observe=lambda db, s: _column(db, Regie.next_payment_number, Regie.id == s.regie_id),
    ),
    Case(
        "accounts.day_entries_between",
        lambda r, s: r.accounts.day_entries_between(DAY, DAY),
        own=True,
    ),
    Case(
        "accounts.closures_between",
        lambda r, s: r.accounts.closures_between(DAY, DAY),
        own=True,
        check=lambda r1, r2, s1, s2: _assert(len(r1) == len(r2) == 1),
    ),
    Case("accounts.children_by_ids", lambda r, s: r.accounts.children_by_ids([s.child_id])),
    # messages
    Case("messages.unread_count", lambda r, s: r.messages.unread_count(s.family_id)),
    Case("messages.get", lambda r, s: r.messages.get(s.message_id)),
    Case(
        "messages.of_family",
        lambda r, s: r.messages.of_family(s.family_id, direction=None, deleted=False, limit=10),
    ),
    Case(
        "messages.count_of_family",
        lambda r, s: r.messages.count_of_family(s.family_id, direction=None, deleted=False),
    ),
    Case("messages.replies_to", lambda r, s: r.messages.replies_to(s.message_id)),
    Case(
        "messages.by_admin_message",
        lambda r, s: r.messages.by_admin_message(s.admin_message_id),
    ),
    Case(
        "messages.mark_read",
        lambda r, s: r.messages.mark_read([s.message_id], NOW),
        observe=lambda db, s: _column(db, Message.read_at, Message.id == s.message_id),
    ),
    # structure
    Case("structure.regie_by_code", lambda r, s: r.structure.regie_by_code(s.regie_code), own=True),
    Case(
        "structure.service_by_code",
        lambda r, s: r.structure.service_by_code(s.service_code),
        own=True,
    ),
    Case("structure.services", lambda r, s: r.structure.services(), own=True),
    # audit
    Case(
        "audit.count_since",
        lambda r, s: r.audit.count_since(
            action="invite.claim",
            outcome="refused",
            actor_telegram_id=SHARED_USER,
            since=NOW - dt.timedelta(days=1),
        ),
        own=True,
        check=_exactly(1),
    ),
    Case("audit.entries", lambda r, s: r.audit.entries(action="invite.claim"), own=True),
    # bot_state
    Case(
        "bot_state.load",
        lambda r, s: r.bot_state.load("chat_data"),
        own=True,
        check=lambda r1, r2, s1, s2: _assert(str(s1.user_id) not in r2),
    ),
    Case(
        "bot_state.load_keys",
        lambda r, s: r.bot_state.load_keys(["user_data"], [str(SHARED_USER)]),
        own=True,
        check=lambda r1, r2, s1, s2: _assert(r2 == {("user_data", str(SHARED_USER)): {"n": 2}}),
    ),
    Case(
        "bot_state.save",
        lambda r, s: r.bot_state.save("user_data", str(SHARED_USER), {"n": 0}),
        own=True,
        observe=lambda db, s: _column(db, BotState.data, BotState.kind == "user_data"),
    ),
    Case(
        "bot_state.remove",
        lambda r, s: r.bot_state.remove("user_data", str(SHARED_USER)),
        own=True,
        observe=lambda db, s: _column(db, BotState.data, BotState.kind == "user_data"),
    ),
    Case(
        "bot_state.write_keys",
        lambda r, s: r.bot_state.write_keys(
            [("user_data", str(SHARED_USER), {"n": 0})], [("chat_data", str(s.user_id))]
        ),
        own=True,
        observe=lambda db, s: _column(db, BotState.kind, BotState.key, BotState.data),
    ),
    # requests
    Case("requests.get", lambda r, s: r.requests.get(s.request_id)),
    Case("requests.get_for_update", lambda r, s: r.requests.get_for_update(s.request_id)),
    Case(
        "requests.by_idempotency_key",
        lambda r, s: r.requests.by_idempotency_key(s.idempotency_key),
    ),
    Case("requests.pending", lambda r, s: r.requests.pending(), own=True),
    Case(
        "requests.pending_of_kind_before",
        lambda r, s: r.requests.pending_of_kind_before(RequestKind.ABSENCE, NOW),
        own=True,
    ),
    Case(
        "requests.of_family",
        lambda r, s: r.requests.of_family(s.family_id, NOW - dt.timedelta(days=30)),
    ),
    Case("requests.pending_of_family", lambda r, s: r.requests.pending_of_family(s.family_id)),
    Case(
        "requests.set_admin_message",
        lambda r, s: r.requests.set_admin_message([s.request_id], 4242),
        observe=lambda db, s: _column(db, Request.admin_message_id, Request.id == s.request_id),
    ),
    Case("requests.pending_among", lambda r, s: r.requests.pending_among([s.request_id])),
    # staff_day
    Case("staff_day.closure", lambda r, s: r.staff_day.closure(DAY, s.service_id)),
    Case(
        "staff_day.entries_on",
        lambda r, s: r.staff_day.entries_on(DAY, frozenset({DayStatus.RESERVED}), s.service_id),
    ),
    Case(
        "staff_day.health_items",
        lambda r, s: r.staff_day.health_items([s.child_id], HealthItemKind.ALLERGY),
    ),
    # children
    Case("children.of_family", lambda r, s: r.children.of_family(s.family_id, s.child_id)),
    Case("children.ids_of_family", lambda r, s: r.children.ids_of_family(s.family_id)),
    Case("children.authorized_persons", lambda r, s: r.children.authorized_persons(s.child_id)),
    Case(
        "children.authorized_person",
        lambda r, s: r.children.authorized_person(s.child_id, s.person_id),
    ),
    Case("children.vaccinations", lambda r, s: r.children.vaccinations(s.child_id)),
    Case("children.health_items", lambda r, s: r.children.health_items(s.child_id)),
    Case("children.enrolments", lambda r, s: r.children.enrolments(s.family_id, s.child_id)),
    Case("children.service", lambda r, s: r.children.service(s.service_id)),
    # documents
    Case("documents.get", lambda r, s: r.documents.get(s.document_id)),
    Case("documents.published", lambda r, s: r.documents.published(), own=True),
    Case("documents.by_file", lambda r, s: r.documents.by_file(s.file_id)),
    # export
    Case(
        "export.rows_of_family",
        lambda r, s: r.export.rows_of_family(s.family_id),
        check=lambda r1, r2, s1, s2: _assert(any(r1.values()) and not any(r2.values())),
    ),
    # planning
    Case("planning.closures_between", lambda r, s: r.planning.closures_between(DAY, DAY), own=True),
    Case("planning.booking_window", lambda r, s: r.planning.booking_window(s.service_id, DAY)),
    Case("planning.booking_windows", lambda r, s: r.planning.booking_windows(), own=True),
    Case("planning.family_link", lambda r, s: r.planning.family_link(s.family_id, s.child_id)),
    Case(
        "planning.enrolments",
        lambda r, s: r.planning.enrolments(s.family_id, s.child_id, DAY, DAY),
    ),
    Case("planning.entries", lambda r, s: r.planning.entries(s.child_id, DAY, DAY)),
    Case("planning.entry", lambda r, s: r.planning.entry(s.child_id, s.service_id, DAY)),
    Case(
        "planning.places_taken",
        lambda r, s: r.planning.places_taken(s.service_id, DAY, frozenset({DayStatus.RESERVED})),
    ),
    Case("planning.waiting_days", lambda r, s: r.planning.waiting_days(s.child_id, DAY, DAY)),
    Case("planning.first_waiting", lambda r, s: r.planning.first_waiting(s.service_id, DAY)),
    Case(
        "planning.waiting_entry",
        lambda r, s: r.planning.waiting_entry(s.child_id, s.service_id, DAY),
    ),
    Case("planning.entries_of_request", lambda r, s: r.planning.entries_of_request(s.request_id)),
    Case("planning.history", lambda r, s: r.planning.history(s.day_entry_id)),
    # reminders
    Case(
        "reminders.mark_sent",
        lambda r, s: r.reminders.mark_sent([s.reminder_log_id], NOW),
        observe=lambda db, s: _column(db, ReminderLog.sent_at, ReminderLog.id == s.reminder_log_id),
    ),
    Case(
        "reminders.logged",
        lambda r, s: r.reminders.logged("booking", [f"subject-s{s.structure_id}"]),
    ),
    Case(
        "reminders.unbooked_enrolled",
        lambda r, s: r.reminders.unbooked_enrolled(
            "booking", s.service_id, LATER, LATER, frozenset({DayStatus.RESERVED})
        ),
    ),
    Case(
        "reminders.enrolled_accounts",
        lambda r, s: r.reminders.enrolled_accounts("booking", s.service_id, LATER, LATER),
    ),
    Case(
        "reminders.accounts_of_families",
        lambda r, s: r.reminders.accounts_of_families("booking", [s.family_id]),
    ),
    Case(
        "reminders.invoices_due_between",
        lambda r, s: r.reminders.invoices_due_between(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
        own=True,
    ),
    Case(
        "reminders.boosters_between", lambda r, s: r.reminders.boosters_between(DAY, DAY), own=True
    ),
    Case("reminders.preferences", lambda r, s: r.reminders.preferences(s.user_id)),
    Case("reminders.opted_out", lambda r, s: r.reminders.opted_out(s.preference_kind)),
    Case(
        "reminders.set_preference",
        lambda r, s: r.reminders.set_preference(s.user_id, s.preference_kind, True),
        observe=lambda db, s: _column(db, ReminderPreference.enabled),
    ),
    # outbox
    Case(
        "outbox.claim",
        lambda r, s: r.outbox.claim(NOW, 10, audience="family", ids=list(s.outbox_ids)),
        observe=lambda db, s: _column(db, OutboxMessage.status, OutboxMessage.id.in_(s.outbox_ids)),
    ),
    Case(
        "outbox.pending_of",
        lambda r, s: r.outbox.pending_of("family", [s.template], NOW, 10),
    ),
    Case(
        "outbox.finish",
        lambda r, s: r.outbox.finish(list(s.outbox_ids[:2]), "sent", NOW),
        observe=lambda db, s: _column(db, OutboxMessage.status, OutboxMessage.id.in_(s.outbox_ids)),
    ),
    Case(
        "outbox.retry_later",
        lambda r, s: r.outbox.retry_later(s.outbox_ids[1], NOW, "later"),
        observe=lambda db, s: _column(db, OutboxMessage.status, OutboxMessage.id.in_(s.outbox_ids)),
    ),
    Case(
        "outbox.defer",
        lambda r, s: r.outbox.defer(list(s.outbox_ids), NOW + dt.timedelta(hours=5)),
        observe=lambda db, s: _column(
            db, OutboxMessage.available_at, OutboxMessage.id.in_(s.outbox_ids)
        ),
    ),
    Case(
        "outbox.undelivered",
        lambda r, s: r.outbox.undelivered(
            s.template, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1)
        ),
    ),
    Case(
        "outbox.release_claims",
        lambda r, s: r.outbox.release_claims(),
        own=True,
        check=_exactly(1),
        observe=lambda db, s: _column(db, OutboxMessage.status, OutboxMessage.id.in_(s.outbox_ids)),
    ),
    Case(
        "outbox.backlog",
        lambda r, s: r.outbox.backlog(NOW),
        own=True,
        check=lambda r1, r2, s1, s2: _assert(
            r1.pending == r2.pending == 2 and r2.oldest == NOW - dt.timedelta(hours=1)
        ),
    ),
    Case(
        "outbox.next_due",
        lambda r, s: r.outbox.next_due(),
        own=True,
        check=lambda r1, r2, s1, s2: _assert(r2 == NOW - dt.timedelta(hours=1)),
    ),
    Case(
        "outbox.with_keys",
        lambda r, s: r.outbox.with_keys([f"{s.dedupe_prefix}:pending"]),
    ),
    Case(
        "outbox.structures_due",
        lambda r, s: r.outbox.structures_due(NOW),
        own=True,
        check=lambda r1, r2, s1, s2: _assert(r1 == {1} and r2 == {2}),
    ),
    Case("outbox.of_template", lambda r, s: r.outbox.of_template(s.template)),
    Case("outbox.progress", lambda r, s: r.outbox.progress(s.dedupe_prefix)),
    Case(
        "outbox.purge_sent_before",
        lambda r, s: r.outbox.purge_sent_before(NOW + dt.timedelta(days=1)),
        own=True,
        observe=lambda db, s: _column(db, OutboxMessage.id, OutboxMessage.id.in_(s.outbox_ids)),
    ),
    # imports
    Case("imports.families", lambda r, s: r.imports.families(), own=True),
    Case("imports.children_by_family", lambda r, s: r.imports.children_by_family(), own=True),
    Case("imports.current_enrolments", lambda r, s: r.imports.current_enrolments(TODAY), own=True),
    Case("imports.snapshots", lambda r, s: r.imports.snapshots()),
    Case(
        "imports.families_with_accounts",
        lambda r, s: r.imports.families_with_accounts(),
        own=True,
        check=lambda r1, r2, s1, s2: _assert(s1.family_id in r1 and s1.family_id not in r2),
    ),
    Case("imports.ever_imported", lambda r, s: r.imports.ever_imported()),
    Case(
        "imports.save_snapshots",
        lambda r, s: r.imports.save_snapshots({s.family_id: {"x": 1}}, 1, NOW),
        observe=lambda db, s: _column(db, FamilyImportSnapshot.values),
    ),
    Case(
        "imports.end_enrolments",
        lambda r, s: r.imports.end_enrolments(s.family_id, s.child_id, [s.service_code], TODAY),
        observe=lambda db, s: _column(db, Enrolment.ends_on, Enrolment.family_id == s.family_id),
    ),
    Case(
        "imports.unlink_child",
        lambda r, s: r.imports.unlink_child(s.family_id, s.child_id, TODAY),
        observe=lambda db, s: _column(db, FamilyChild.id, FamilyChild.family_id == s.family_id),
    ),
    Case(
        "imports.remove_family",
        lambda r, s: r.imports.remove_family(s.family_id),
        observe=lambda db, s: _column(db, Family.id, Family.id == s.family_id),
    ),
    # invitations
    Case(
        "invitations.families",
        lambda r, s: r.invitations.families(numbers=[s.family_number], unlinked_only=False),
        own=True,
    ),
    Case(
        "invitations.retire_open_invites",
        lambda r, s: r.invitations.retire_open_invites([s.family_id], NOW),
        observe=lambda db, s: _column(db, Invite.expires_at, Invite.code_hash == CODE_HASH),
    ),
    # accounting
    Case(
        "accounting.invoices_of_period",
        lambda r, s: r.accounting.invoices_of_period(
            s.invoice_period_start, s.invoice_period_start
        ),
        own=True,
    ),
    Case(
        "accounting.payments_between",
        lambda r, s: r.accounting.payments_between(TODAY, TODAY),
        own=True,
    ),
    Case("accounting.families", lambda r, s: r.accounting.families([s.family_id])),
    Case("accounting.invoice_numbers", lambda r, s: r.accounting.invoice_numbers([s.invoice_id])),
    Case("accounting.services", lambda r, s: r.accounting.services(), own=True),
    Case("accounting.children", lambda r, s: r.accounting.children([s.child_id])),
    # attendance
    Case("attendance.service", lambda r, s: r.attendance.service(s.service_code), own=True),
    Case("attendance.session_of", lambda r, s: r.attendance.session_of(s.service_id, DAY)),
    Case(
        "attendance.session_by_id",
        lambda r, s: r.attendance.session_by_id(s.attendance_session_id),
    ),
    Case("attendance.entries", lambda r, s: r.attendance.entries(s.service_id, DAY)),
    Case("attendance.entry", lambda r, s: r.attendance.entry(s.child_id, s.service_id, DAY)),
    Case("attendance.marks", lambda r, s: r.attendance.marks(s.service_id, DAY)),
    Case("attendance.mark", lambda r, s: r.attendance.mark(s.child_id, s.service_id, DAY)),
    Case("attendance.marks_between", lambda r, s: r.attendance.marks_between(DAY, DAY), own=True),
    Case("attendance.children", lambda r, s: r.attendance.children([s.child_id])),
    Case("attendance.health_flags", lambda r, s: r.attendance.health_flags([s.child_id])),
    Case("attendance.enrolled", lambda r, s: r.attendance.enrolled(s.service_id, DAY)),
    Case(
        "attendance.enrolment_of",
        lambda r, s: r.attendance.enrolment_of(
            s.family_number, s.child_first_name, s.service_id, DAY
        ),
    ),
    Case(
        "attendance.entries_from",
        lambda r, s: r.attendance.entries_from(s.child_id, s.service_id, DAY, DAY),
    ),
    Case(
        "attendance.school_year_end",
        lambda r, s: r.attendance.school_year_end(DAY),
        own=True,
        check=lambda r1, r2, s1, s2: _assert(r1 == YEAR_ENDS["s1"] and r2 == YEAR_ENDS["s2"]),
    ),
    Case("attendance.contracts", lambda r, s: r.attendance.contracts(TODAY), own=True),
    Case(
        "attendance.regular_from",
        lambda r, s: r.attendance.regular_from(s.child_id, s.service_id, DAY),
    ),
]


def _assert(condition: bool) -> None:
    assert condition


def _families_only(rows: Any, position: int, s2: Rows) -> None:
    assert {row[position] for row in rows} <= {s2.family_id}


@pytest.fixture
async def world(any_database: Database, structure: Structure) -> tuple[Database, Rows, Rows]:
    s1, s2 = await two_structures(any_database, structure)
    return any_database, s1, s2


async def _run(call: Call, db: Database, s1: Rows) -> Any:
    async with db.unit_of_work() as uow:
        try:
            result = await call(uow.repos, s1)
            await uow.session.flush()
            await uow.commit()
        except (NoResultFound, IntegrityError):  # refused: structure 1's rows are checked below
            await uow.rollback()
            return None
        return result


@pytest.mark.parametrize("case", CASES, ids=[case.method for case in CASES])
async def test_structure_2_neither_sees_nor_changes_structure_1s_rows(
    world: tuple[Database, Rows, Rows], case: Case
) -> None:
    db, s1, s2 = world
    other = db.for_structure(2)
    # In structure 1 the call finds (or changes) structure 1's rows: the case can fail.
    async with db.unit_of_work() as uow:
        before = await case.observe(uow.session, s1) if case.observe else None
        r1 = await case.call(uow.repos, s1)
        if case.observe is not None:
            await uow.session.flush()
            assert await case.observe(uow.session, s1) != before, "the call changes nothing"
        else:
            assert found(r1), "structure 1 finds nothing: the case proves nothing"
        await uow.rollback()
    # From structure 2, nothing of structure 1 comes back or changes.
    r2 = await _run(case.call, other, s1)
    assert foreign_rows(r2, 2) == []
    if case.check is not None:
        case.check(r1, r2, s1, s2)
    elif not case.own:
        assert not found(r2), f"structure 2 got {r2!r}"
    if case.observe is not None:
        async with db.unit_of_work(read_only=True) as uow:
            assert await case.observe(uow.session, s1) == before


# ---------------------------------------------------------------------------------------
# Methods whose isolation reads differently: tested one by one below.


async def test_a_reminder_sent_in_structure_1_is_still_to_send_in_structure_2(
    world: tuple[Database, Rows, Rows],
) -> None:
    db, s1, _s2 = world
    key = ("booking", s1.user_id, "subject-s1")
    async with db.unit_of_work() as uow:
        assert await uow.repos.reminders.claim([key], NOW) == {}  # structure 1 logged it
    async with db.for_structure(2).unit_of_work() as uow:
        claimed = await uow.repos.reminders.claim([key], NOW)
        await uow.commit()
    assert list(claimed) == [key] and claimed[key] != s1.reminder_log_id
    async with db.unit_of_work(read_only=True) as uow:
        rows = await _column(uow.session, ReminderLog.id, ReminderLog.subject == "subject-s1")
    assert rows == [(s1.reminder_log_id,)]


async def test_an_update_handled_by_structure_1_is_new_to_structure_2(
    world: tuple[Database, Rows, Rows],
) -> None:
    db, _s1, _s2 = world
    async with db.unit_of_work() as uow:
        assert await HandledUpdateRepository(uow.session).remember(UPDATE_ID, NOW) is False
    async with db.for_structure(2).unit_of_work() as uow:
        assert await HandledUpdateRepository(uow.session).remember(UPDATE_ID + 1, NOW) is True
        assert await HandledUpdateRepository(uow.session).remember(UPDATE_ID, NOW) is False
        await uow.commit()
    async with db.for_structure(2).unit_of_work() as uow:  # a purge, a month later
        purge_id = UPDATE_ID - UPDATE_ID % 200 + 200
        later = NOW + dt.timedelta(days=30)
        assert await HandledUpdateRepository(uow.session).remember(purge_id, later) is True
        await uow.commit()
    async with db.unit_of_work() as uow:  # structure 2's purge left structure 1's ids
        assert await HandledUpdateRepository(uow.session).remember(UPDATE_ID, NOW) is False


async def test_a_lock_taken_from_structure_2_finds_no_service_of_structure_1(
    world: tuple[Database, Rows, Rows],
) -> None:
    db, s1, _s2 = world
    statements: list[str] = []
    async with db.for_structure(2).unit_of_work() as uow:

        def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", remember)
        try:
            await uow.repos.planning.lock_service(s1.service_id)
        finally:
            event.remove(engine, "before_cursor_execute", remember)
    locks = [statement for statement in statements if "FROM services" in statement]
    assert locks and all("services.structure_id = " in statement for statement in locks)


@pytest.mark.parametrize("repository", ["children", "planning"])
async def test_a_row_of_structure_1_cannot_be_deleted_from_structure_2(
    world: tuple[Database, Rows, Rows], repository: str
) -> None:
    db, s1, _s2 = world
    async with db.unit_of_work(read_only=True) as uow:
        if repository == "children":
            row: Any = await uow.repos.children.authorized_person(s1.child_id, s1.person_id)
        else:
            row = await uow.repos.planning.waiting_entry(s1.child_id, s1.service_id, DAY)
        assert row is not None
    with pytest.raises(UnscopedWriteError):
        async with db.for_structure(2).unit_of_work() as uow:
            await getattr(uow.repos, repository).delete(row)
            await uow.commit()
    async with db.unit_of_work(read_only=True) as uow:
        if repository == "children":
            kept: Any = await uow.repos.children.authorized_person(s1.child_id, s1.person_id)
        else:
            kept = await uow.repos.planning.waiting_entry(s1.child_id, s1.service_id, DAY)
    assert kept is not None


async def test_rows_written_from_structure_2_belong_to_structure_2(
    world: tuple[Database, Rows, Rows],
) -> None:
    db, s1, s2 = world
    async with db.for_structure(2).unit_of_work() as uow:
        written = await uow.repos.outbox.add(
            [
                NewMessage(
                    audience="family",
                    chat_id=SHARED_USER,
                    template="test.written",
                    params={},
                    language=None,
                    priority=1,
                    available_at=NOW,
                )
            ]
        )
        uow.repos.audit.record(
            action="test.written", outcome="ok", actor_telegram_id=None, actor_kind="system"
        )
        days = await uow.repos.attendance.insert_missing_days(
            [
                {
                    "family_id": s2.family_id,
                    "child_id": s2.child_id,
                    "service_id": s2.service_id,
                    "day": LATER,
                    "status": DayStatus.REGULAR,
                }
            ]
        )
        await uow.repos.attendance.insert_events(
            [
                {
                    "day_entry_id": days[0],
                    "at": NOW,
                    "actor_kind": "system",
                    "to_status": DayStatus.REGULAR,
                }
            ]
        )
        await uow.commit()
    assert written == 1 and len(days) == 1
    async with db.for_structure(2).unit_of_work(read_only=True) as uow:
        assert [m.structure_id for m in await uow.repos.outbox.of_template("test.written")] == [2]
        assert [e.action for e in await uow.repos.audit.entries(action="test.written")] == [
            "test.written"
        ]
        assert await uow.repos.planning.history(days[0])
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.repos.audit.entries(action="test.written") == []
        assert await uow.repos.outbox.of_template("test.written") == []
        assert await uow.repos.planning.entry(s2.child_id, s2.service_id, LATER) is None
        assert s1.structure_id == 1


# ---------------------------------------------------------------------------------------
# Every public method has its case; every subquery of storage/ names its structure.

STAGING = {
    "add",
    "add_all",
    "add_import",
    "add_link",
    "add_window",
    "add_closure",
    "add_event",
    "flush",
}
"""Methods that only stage new rows (their structure is the unit of work's, see
`test_rows_written_from_structure_2_belong_to_structure_2`) or send them."""
TESTED_APART = {
    "reminders.claim": test_a_reminder_sent_in_structure_1_is_still_to_send_in_structure_2,
    "handled_updates.remember": test_an_update_handled_by_structure_1_is_new_to_structure_2,
    "planning.lock_service": test_a_lock_taken_from_structure_2_finds_no_service_of_structure_1,
    "children.delete": test_a_row_of_structure_1_cannot_be_deleted_from_structure_2,
    "planning.delete": test_a_row_of_structure_1_cannot_be_deleted_from_structure_2,
    "outbox.add": test_rows_written_from_structure_2_belong_to_structure_2,
    "audit.record": test_rows_written_from_structure_2_belong_to_structure_2,
    "attendance.insert_missing_days": test_rows_written_from_structure_2_belong_to_structure_2,
    "attendance.insert_events": test_rows_written_from_structure_2_belong_to_structure_2,
}
NOT_A_STRUCTURES_DATA = {"registry"}
"""Repositories of the `structures` table itself (the registry acts for no structure)."""


def _public_methods() -> dict[str, list[str]]:
    repos = Repositories(cast(AsyncSession, None))
    found_methods: dict[str, list[str]] = {}
    for name, repository in [*vars(repos).items(), ("handled_updates", HandledUpdateRepository)]:
        cls = repository if isinstance(repository, type) else type(repository)
        found_methods[name] = [
            method
            for method, _ in inspect.getmembers(cls, inspect.isfunction)
            if not method.startswith("_")
        ]
    return found_methods


def test_every_public_repository_method_has_its_isolation_case() -> None:
    covered = {case.method for case in CASES} | set(TESTED_APART)
    missing = [
        f"{repository}.{method}"
        for repository, methods in _public_methods().items()
        if repository not in NOT_A_STRUCTURES_DATA
        for method in methods
        if method not in STAGING and f"{repository}.{method}" not in covered
    ]
    assert missing == [], "methods without an isolation case in this file"
    unknown = covered - {
        f"{repository}.{method}"
        for repository, methods in _public_methods().items()
        for method in methods
    }
    assert unknown == set(), "cases of methods that no longer exist"


SUBQUERY = re.compile(
    r"(?<![\w.])exists\(|\.exists\(\)|\.subquery\(|\.scalar_subquery\(|select_from\("
    r"|select\(\s*func\.\w+\(\s*\)\s*\)"  # select(func.count()) names no table either
)
STORAGE = Path(__file__).resolve().parents[2] / "storage"


def test_every_subquery_in_storage_names_its_structure() -> None:
    """storage.scoping filters a statement's own FROM list; a subquery must say its structure."""
    offenders = []
    for path in sorted(STORAGE.glob("*.py")):
        if path.name in {"scoping.py", "models.py", "db.py"}:
            continue
        source = path.read_text(encoding="utf-8")
        functions = {
            node.name: ast.get_source_segment(source, node) or ""
            for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        scoped = {name for name, body in functions.items() if "in_structure(" in body}
        for name, body in functions.items():
            if SUBQUERY.search(body) and not (
                name in scoped or any(f"self.{helper}(" in body for helper in scoped)
            ):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


async def test_the_scan_flags_what_scoping_leaves_unfiltered(database: Database) -> None:
    """Why the scan above ignores `in_(select(...))` but flags `exists()`, `select_from`,
    `select(func.count())`: storage.scoping filters the first, not the others."""
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        async with database.for_structure(2).unit_of_work(read_only=True) as uow:
            linked = select(TelegramLink.family_id)
            await uow.session.execute(select(Family.id).where(Family.id.not_in(linked)))
            await uow.session.execute(select(exists().where(Invoice.family_id > 0)))
            await uow.session.execute(select(func.count()).select_from(Invoice))
            await uow.session.execute(select(func.count()).where(Invoice.id > 0))
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    in_subquery, bare_exists, select_from, bare_count = statements[-4:]
    assert in_subquery.count("structure_id") == 2
    assert "structure_id" not in bare_exists
    assert "structure_id" not in select_from
    assert "structure_id" not in bare_count
