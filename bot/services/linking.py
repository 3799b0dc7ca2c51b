"""Linking a Telegram account to a family: one-time invites, N° famille + phone, unlinking.

Invite codes are random, single-use, expire, and only their SHA-256 is stored. Failed attempts
are audited and throttled so that N° famille cannot be guessed. Each public use case takes the
`Database` and commits once (refusals included, so their audit rows count towards the
throttle); a successful link returns the home screen's summary, read in the same transaction.
Results are plain values; the dialogue turns them into French.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from bot.services.home import HomeSummary, summary_of_family
from bot.services.use_case import Refused, family_use_case, use_case
from storage.db import Database, UnitOfWork
from storage.models import Family, Invite, TelegramLink

MAX_FAILED_ATTEMPTS_PER_HOUR = 5
_INVITE_CODE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
ACTION_LINK = "link"
ACTION_UNLINK = "unlink"
ACTION_INVITE = "invite.create"


class LinkOutcome(StrEnum):
    """What became of a linking attempt."""

    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    LINKED_ELSEWHERE = "linked_elsewhere"
    INVALID_CODE = "invalid_code"
    USED_CODE = "used_code"
    EXPIRED_CODE = "expired_code"
    NO_MATCH = "no_match"
    NOT_OWN_CONTACT = "not_own_contact"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LinkResult:
    """Outcome of a linking attempt, with the family when linked."""

    outcome: LinkOutcome
    family_id: int | None = None
    home: HomeSummary | None = None
    """The Accueil of the family, when the account is (now) linked to it."""

    @property
    def linked(self) -> bool:
        """True when the account is now linked to the family."""
        return self.outcome in (LinkOutcome.LINKED, LinkOutcome.ALREADY_LINKED)


@dataclass(frozen=True)
class CreatedInvite:
    """A fresh invite: the clear code is only ever known here."""

    code: str
    family_number: str
    expires_at: dt.datetime


class UnknownFamily(Refused, LookupError):
    """No family has this N° famille (a staff member's attempt is audited as refused)."""


def invite_link(username: str, code: str) -> str:
    """The deep link that opens the bot with the invite code (printed as a QR code too)."""
    return f"https://t.me/{username.lstrip('@')}?start={code}"


def hash_code(code: str) -> str:
    """The stored form of an invite code."""
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


def normalize_phone(raw: str | None) -> str | None:
    """A phone number in E.164, or None when it is not a valid number.

    French national numbers ("06 12 34 56 78") and international ones ("+33 6…", or
    "33612…" as Telegram sends contacts) are accepted.
    """
    if not raw:
        return None
    text = raw.strip()
    for candidate, region in ((text, "FR"), ("+" + text.lstrip("+0"), None)):
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def family_phones(family: Family) -> set[str]:
    """Every phone on file for a family's guardians, normalized."""
    phones = set()
    for guardian in family.guardians:
        for raw in (guardian.phone_mobile, guardian.phone_home, guardian.phone_work):
            normalized = normalize_phone(raw)
            if normalized:
                phones.add(normalized)
    return phones


async def issue_invite(
    db: Database,
    family_number: str,
    *,
    now: dt.datetime,
    ttl_days: int,
    staff_id: int | None = None,
) -> CreatedInvite:
    """A new single-use invite for a family, committed; raise UnknownFamily when the number is unknown."""
    async with use_case(db) as uow:
        return await create_invite(uow, family_number, now, ttl_days, staff_id=staff_id)


async def create_invite(
    uow: UnitOfWork,
    family_number: str,
    now: dt.datetime,
    ttl_days: int,
    *,
    staff_id: int | None = None,
) -> CreatedInvite:
    """A new single-use invite for a family, in the caller's transaction (UnknownFamily when unknown)."""
    family = await uow.repos.families.get_by_number(family_number.strip())
    if family is None:
        if staff_id is not None:
            uow.repos.audit.record(
                action=ACTION_INVITE,
                outcome="refused",
                actor_telegram_id=staff_id,
                actor_kind="staff",
                target=f"family:{family_number.strip()[:40]}",
                at=now,
            )
        raise UnknownFamily(family_number)
    code = secrets.token_urlsafe(18)
    expires_at = now + dt.timedelta(days=ttl_days)
    uow.repos.invites.add(
        Invite(
            family_id=family.id, code_hash=hash_code(code), created_at=now, expires_at=expires_at
        )
    )
    uow.repos.audit.record(
        action=ACTION_INVITE,
        outcome="ok",
        actor_telegram_id=staff_id,
        actor_kind="staff",
        family_id=family.id,
        at=now,
    )
    return CreatedInvite(code=code, family_number=family.number, expires_at=expires_at)


async def redeem_invite(db: Database, code: str, user_id: int, now: dt.datetime) -> LinkResult:
    """Link the account to the invite's family if the code is valid, unused and not expired."""
    async with use_case(db) as uow:
        return await _redeem(uow, code, user_id, now)


async def link_by_contact(
    db: Database,
    family_number: str,
    phone: str,
    *,
    contact_user_id: int | None,
    user_id: int,
    now: dt.datetime,
) -> LinkResult:
    """Link when the shared contact is the user's own and its phone is on file for that N° famille.

    A contact that is someone else's is refused. An unknown number and a mismatch give the
    same answer, so nothing is learnt by guessing.
    """
    async with use_case(db) as uow:
        if contact_user_id != user_id:
            return await _refuse(uow, user_id, now, LinkOutcome.NOT_OWN_CONTACT)
        return await _link_by_phone(uow, family_number, phone, user_id, now)


async def require_link(db: Database, user_id: int) -> None:
    """`NotLinked` unless the account is linked to a family (a button that names nothing any
    more asks it: "not linked" is then the answer, rather than "this form is closed")."""
    async with family_use_case(db, user_id, read_only=True):
        return


async def unlink(db: Database, user_id: int, now: dt.datetime) -> bool:
    """Revoke the account's link; True when there was one."""
    async with use_case(db) as uow:
        link = await uow.repos.telegram.active_link(user_id)
        revoked = await uow.repos.telegram.revoke_links_of_user(user_id, now)
        if revoked:
            uow.repos.audit.record(
                action=ACTION_UNLINK,
                outcome="ok",
                actor_telegram_id=user_id,
                actor_kind="parent",
                family_id=link.family_id if link else None,
                at=now,
            )
        return bool(revoked)


async def _redeem(uow: UnitOfWork, code: str, user_id: int, now: dt.datetime) -> LinkResult:
    if await _throttled(uow, user_id, now):
        return await _refuse(uow, user_id, now, LinkOutcome.THROTTLED)
    if not _INVITE_CODE.match(code):
        return await _refuse(uow, user_id, now, LinkOutcome.INVALID_CODE)
    code_hash = hash_code(code)
    invite = await uow.repos.invites.get_by_hash(code_hash)
    if invite is None:
        return await _refuse(uow, user_id, now, LinkOutcome.INVALID_CODE)
    current = await uow.repos.telegram.active_link(user_id)
    if current is not None:
        if current.family_id == invite.family_id:
            return await _already_linked(uow, current.family_id)
        return LinkResult(LinkOutcome.LINKED_ELSEWHERE, current.family_id)
    if invite.used_at is not None:
        return await _refuse(uow, user_id, now, LinkOutcome.USED_CODE)
    if invite.expires_at <= now:
        return await _refuse(uow, user_id, now, LinkOutcome.EXPIRED_CODE)
    family_id = await uow.repos.invites.claim(code_hash, user_id, now)
    if family_id is None:  # lost a race for the same code
        return await _refuse(uow, user_id, now, LinkOutcome.USED_CODE)
    return await _link(uow, user_id, family_id, now, via="invite")


async def _link_by_phone(
    uow: UnitOfWork, family_number: str, phone: str, user_id: int, now: dt.datetime
) -> LinkResult:
    if await _throttled(uow, user_id, now):
        return await _refuse(uow, user_id, now, LinkOutcome.THROTTLED)
    family = await uow.repos.families.get_by_number(family_number.strip())
    normalized = normalize_phone(phone)
    if family is None or normalized is None or normalized not in family_phones(family):
        return await _refuse(uow, user_id, now, LinkOutcome.NO_MATCH)
    current = await uow.repos.telegram.active_link(user_id)
    if current is not None:
        if current.family_id == family.id:
            return await _already_linked(uow, current.family_id)
        return LinkResult(LinkOutcome.LINKED_ELSEWHERE, current.family_id)
    return await _link(uow, user_id, family.id, now, via="contact")


async def _already_linked(uow: UnitOfWork, family_id: int) -> LinkResult:
    return LinkResult(
        LinkOutcome.ALREADY_LINKED, family_id, await summary_of_family(uow, family_id)
    )


async def _link(
    uow: UnitOfWork, user_id: int, family_id: int, now: dt.datetime, *, via: str
) -> LinkResult:
    await uow.repos.telegram.get_or_create_user(user_id)
    uow.repos.telegram.add_link(
        TelegramLink(family_id=family_id, telegram_user_id=user_id, linked_at=now, linked_by=via)
    )
    uow.repos.audit.record(
        action=ACTION_LINK,
        outcome="ok",
        actor_telegram_id=user_id,
        actor_kind="parent",
        family_id=family_id,
        details={"via": via},
        at=now,
    )
    await uow.session.flush()
    return LinkResult(LinkOutcome.LINKED, family_id, await summary_of_family(uow, family_id))


async def _refuse(
    uow: UnitOfWork, user_id: int, now: dt.datetime, outcome: LinkOutcome
) -> LinkResult:
    uow.repos.audit.record(
        action=ACTION_LINK,
        outcome="refused",
        actor_telegram_id=user_id,
        actor_kind="anonymous",
        details={"reason": outcome.value},
        at=now,
    )
    return LinkResult(outcome)


async def _throttled(uow: UnitOfWork, user_id: int, now: dt.datetime) -> bool:
    failures = await uow.repos.audit.count_since(
        action=ACTION_LINK,
        outcome="refused",
        actor_telegram_id=user_id,
        since=now - dt.timedelta(hours=1),
    )
    return failures >= MAX_FAILED_ATTEMPTS_PER_HOUR
