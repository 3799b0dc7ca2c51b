"""The database schema: typed SQLAlchemy 2 models of the whole domain.

Later features add behaviour, not tables. Times are stored as UTC and read back as aware
datetimes (`UTCDateTime`); money is `Numeric` read back as `Decimal`. Enum columns store the
values of `bot.domain.model`'s enums as short strings, identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from bot.domain.model import (
    Custody,
    DayStatus,
    GuardianRole,
    HealthItemKind,
    MessageDirection,
    PaymentMethod,
    Regime,
    RequestKind,
    RequestStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(12, 2, asdecimal=True)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes stored as naive UTC, so SQLite and PostgreSQL behave alike."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def enum_column(enum: type[Enum]) -> SAEnum:
    """A portable enum column storing the enum's values (not names)."""
    return SAEnum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def utcnow() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --- Structures ----------------------------------------------------------------------------

STRUCTURE_OPTION = "pf_structure"
"""Execution option naming the structure a unit of work acts for (see `storage.scoping`)."""
DEFAULT_STRUCTURE_ID = 1
"""The structure of `.env` (TELEGRAM_BOT_TOKEN, ADMIN_CHAT_ID, STRUCTURE_FILE), created by the
first migration: a single-structure deployment is this one."""


class UnscopedWriteError(RuntimeError):
    """A row of a structure's table written by a unit of work that acts for no structure."""


def current_structure(context: Any) -> int:
    """The default of every `structure_id`: the structure of the unit of work writing."""
    structure_id = context.execution_options.get(STRUCTURE_OPTION)
    if structure_id is None:
        raise UnscopedWriteError("a structure's row written outside any structure")
    return int(structure_id)


class StructureRecord(Base):
    """One structure served by the deployment: its bot, its admin group, its configuration."""

    __tablename__ = "structures"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    """Its short name: the command line's and the webhook's (`/tg/<slug>`)."""
    name: Mapped[str] = mapped_column(String(120), default="")
    bot_token: Mapped[str | None] = mapped_column(String(120), unique=True)
    bot_username: Mapped[str | None] = mapped_column(String(64))
    admin_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_user_ids: Mapped[str] = mapped_column(String(400), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    webhook_secret: Mapped[str | None] = mapped_column(String(256))
    configuration: Mapped[str | None] = mapped_column(Text)
    """The structure file (YAML), as given to `structure add`; None for the `.env` structure,
    whose STRUCTURE_FILE is read at each start."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def _account_of_structure() -> ForeignKeyConstraint:
    """`telegram_user_id` names the account as the row's structure's bot knows it."""
    return ForeignKeyConstraint(
        ["structure_id", "telegram_user_id"], ["telegram_users.structure_id", "telegram_users.id"]
    )


class Scoped:
    """A row that belongs to one structure. Units of work see and write only their structure's
    rows (`storage.scoping`); `structure_id` is filled from the unit of work."""

    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structures.id"), default=current_structure
    )


# --- The structure -------------------------------------------------------------------------


class Regie(Scoped, Base):
    """A régie: who bills, with its own invoice numbering ("AL-36")."""

    __tablename__ = "regies"
    __table_args__ = (UniqueConstraint("structure_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    invoice_prefix: Mapped[str] = mapped_column(String(16))
    next_invoice_number: Mapped[int] = mapped_column(Integer, default=1)
    next_payment_number: Mapped[int] = mapped_column(Integer, default=1)


class Service(Scoped, Base):
    """A prestation (garderie matin, cantine, ALSH…); its rules come from the structure file."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("structure_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    regie_id: Mapped[int] = mapped_column(ForeignKey("regies.id"))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    regie: Mapped[Regie] = relationship()


class SchoolYear(Scoped, Base):
    """A school year ("2025-2026"), the unit of the relevé de compte."""

    __tablename__ = "school_years"
    __table_args__ = (UniqueConstraint("structure_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)


class BookingWindow(Scoped, Base):
    """A holiday period and the window, set by staff, in which it may be booked."""

    __tablename__ = "booking_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    period_starts_on: Mapped[dt.date] = mapped_column(Date)
    period_ends_on: Mapped[dt.date] = mapped_column(Date)
    opens_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigInteger)


class Closure(Scoped, Base):
    """A day the structure (or one service) is closed (fermeture)."""

    __tablename__ = "closures"
    __table_args__ = (
        UniqueConstraint("day", "service_id"),
        # NULLs are distinct in a unique constraint: one whole-structure closure a day needs its own index.
        Index(
            "uq_closures_whole_day",
            "structure_id",
            "day",
            unique=True,
            postgresql_where=text("service_id IS NULL"),
            sqlite_where=text("service_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    cancelled: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """What the closure cancelled, so /reouvrir restores it: [{"entry": id, "status": prior status,
    "request": id of a request it cancelled or None}, ...]."""


# --- Families ------------------------------------------------------------------------------


class Family(Scoped, Base):
    """A foyer, known by its N° famille, with what the seed "Mon compte" shows."""

    __tablename__ = "families"
    __table_args__ = (UniqueConstraint("structure_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    regime: Mapped[Regime | None] = mapped_column(enum_column(Regime))
    caf_number: Mapped[str | None] = mapped_column(String(32))
    caf_children_count: Mapped[int | None] = mapped_column(Integer)
    quotient_familial: Mapped[Decimal | None] = mapped_column(Money)
    organisme_rattachement: Mapped[str | None] = mapped_column(String(80))
    bank_name: Mapped[str | None] = mapped_column(String(80))
    account_holder: Mapped[str | None] = mapped_column(String(120))
    iban: Mapped[str | None] = mapped_column(String(40))
    bic: Mapped[str | None] = mapped_column(String(16))
    direct_debit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    guardians: Mapped[list[Guardian]] = relationship(
        back_populates="family", cascade="all, delete-orphan", order_by="Guardian.role"
    )
    child_links: Mapped[list[FamilyChild]] = relationship(back_populates="family")

    def guardian(self, role: GuardianRole) -> Guardian | None:
        """The responsable or the conjoint, when recorded."""
        return next((g for g in self.guardians if g.role == role), None)


class Guardian(Scoped, Base):
    """The responsable or the conjoint of a family (fiche responsable / fiche conjoint)."""

    __tablename__ = "guardians"
    __table_args__ = (UniqueConstraint("family_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    role: Mapped[GuardianRole] = mapped_column(enum_column(GuardianRole))
    civility: Mapped[str | None] = mapped_column(String(20))
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80))
    quality: Mapped[str | None] = mapped_column(String(40))
    situation: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(80))
    phone_home: Mapped[str | None] = mapped_column(String(32))
    phone_work: Mapped[str | None] = mapped_column(String(32))
    phone_mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(120))
    profession: Mapped[str | None] = mapped_column(String(80))
    csp: Mapped[str | None] = mapped_column(String(80))
    employer: Mapped[str | None] = mapped_column(String(120))
    employer_address: Mapped[str | None] = mapped_column(String(200))
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    email_consent: Mapped[bool] = mapped_column(Boolean, default=False)

    family: Mapped[Family] = relationship(back_populates="guardians")


class TelegramUser(Scoped, Base):
    """A Telegram account as one structure's bot knows it: its language choice, and whether it
    blocked that bot. The same person talking to two structures' bots is two rows."""

    __tablename__ = "telegram_users"

    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structures.id"), primary_key=True, default=current_structure
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str | None] = mapped_column(String(8))
    """The language chosen with /langue (None: no choice; then `app_language` applies)."""
    app_language: Mapped[str | None] = mapped_column(String(8))
    """The Telegram app's language when the account was seen (what it gets without a choice)."""
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    unreachable_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TelegramLink(Scoped, Base):
    """A Telegram account linked to a family; several accounts may share one family."""

    __tablename__ = "telegram_links"
    __table_args__ = (
        Index("ix_telegram_links_active_user", "telegram_user_id", "revoked_at"),
        # A Telegram account is linked to one family at a time.
        Index(
            "uq_telegram_links_one_active_per_user",
            "structure_id",
            "telegram_user_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
        _account_of_structure(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(
        ForeignKey("families.id", ondelete="CASCADE"), index=True
    )
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    linked_by: Mapped[str] = mapped_column(String(16))  # "invite" or "contact"
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    family: Mapped[Family] = relationship()


class Invite(Scoped, Base):
    """A one-time invitation code for a family; only its SHA-256 hash is stored."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(BigInteger)


# --- Children ------------------------------------------------------------------------------


class Child(Scoped, Base):
    """A child (fiche enfant). May belong to two foyers (see `FamilyChild`)."""

    __tablename__ = "children"
    __table_args__ = (UniqueConstraint("structure_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str | None] = mapped_column(String(32))
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    school: Mapped[str | None] = mapped_column(String(120))
    class_name: Mapped[str | None] = mapped_column(String(40))
    glasses: Mapped[bool] = mapped_column(Boolean, default=False)
    doctor_name: Mapped[str | None] = mapped_column(String(120))
    doctor_phone: Mapped[str | None] = mapped_column(String(32))

    family_links: Mapped[list[FamilyChild]] = relationship(back_populates="child")


class FamilyChild(Scoped, Base):
    """A child in a foyer, with the custody that says which weeks are that foyer's."""

    __tablename__ = "family_children"
    __table_args__ = (UniqueConstraint("family_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    custody: Mapped[Custody] = mapped_column(enum_column(Custody), default=Custody.FULL)
    custody_reference_monday: Mapped[dt.date | None] = mapped_column(Date)

    family: Mapped[Family] = relationship(back_populates="child_links")
    child: Mapped[Child] = relationship(back_populates="family_links")


class Vaccination(Scoped, Base):
    """A vaccination of the child's données sanitaires."""

    __tablename__ = "vaccinations"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    given_on: Mapped[dt.date | None] = mapped_column(Date)
    dose: Mapped[str | None] = mapped_column(String(40))
    lot: Mapped[str | None] = mapped_column(String(40))
    booster_on: Mapped[dt.date | None] = mapped_column(Date)
    doctor: Mapped[str | None] = mapped_column(String(120))


class HealthItem(Scoped, Base):
    """An allergy, illness, contra-indication or PAI of a child."""

    __tablename__ = "health_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    kind: Mapped[HealthItemKind] = mapped_column(enum_column(HealthItemKind))
    description: Mapped[str] = mapped_column(String(300))


class AuthorizedPerson(Scoped, Base):
    """A person allowed to pick the child up (Les autorisations)."""

    __tablename__ = "authorized_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str | None] = mapped_column(String(80))
    relation: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32))


class Enrolment(Scoped, Base):
    """An inscription of a child to a service, billed to one foyer."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("child_id", "service_id", "family_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    regular_weekdays: Mapped[str | None] = mapped_column(String(20))  # e.g. "mon,thu"

    service: Mapped[Service] = relationship()


class DayEntry(Scoped, Base):
    """One child's day for one service: its planning status."""

    __tablename__ = "day_entries"
    __table_args__ = (
        UniqueConstraint("child_id", "service_id", "day"),
        Index("ix_day_entries_service_day", "service_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[DayStatus] = mapped_column(enum_column(DayStatus))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DayEntryEvent(Scoped, Base):
    """History of a day entry: who changed it, when, from which request."""

    __tablename__ = "day_entry_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    day_entry_id: Mapped[int] = mapped_column(
        ForeignKey("day_entries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_kind: Mapped[str] = mapped_column(String(16))  # parent, staff, system
    from_status: Mapped[DayStatus | None] = mapped_column(enum_column(DayStatus))
    to_status: Mapped[DayStatus] = mapped_column(enum_column(DayStatus))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    note: Mapped[str | None] = mapped_column(String(200))


class AttendanceSession(Scoped, Base):
    """One service's session on one day, as staff take attendance (pointage) and close it."""

    __tablename__ = "attendance_sessions"
    __table_args__ = (UniqueConstraint("service_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(BigInteger)
    list_messages: Mapped[list[list[int]] | None] = mapped_column(JSON)
    """The pointage lists shown for this session, [[chat_id, message_id], ...]: each mark edits
    them all, so two staff ticking at once see each other's ticks."""


class AttendanceMark(Scoped, Base):
    """A child ticked (or unticked) at a session: who, when, arrival and departure."""

    __tablename__ = "attendance_marks"
    __table_args__ = (
        UniqueConstraint("child_id", "service_id", "day"),
        Index("ix_attendance_marks_service_day", "service_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    planned: Mapped[DayStatus | None] = mapped_column(enum_column(DayStatus))
    """The day's status before attendance (None: no booking): what an untick goes back to."""
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    marked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    marked_by: Mapped[int | None] = mapped_column(BigInteger)


class WaitingListEntry(Scoped, Base):
    """A child waiting for a place on a full day; the first in line gets a freed place."""

    __tablename__ = "waiting_list"
    __table_args__ = (UniqueConstraint("child_id", "service_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# --- Requests, messages, documents ---------------------------------------------------------


class Request(Scoped, Base):
    """A parent's demande, decided by staff (or at once within the rules)."""

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_status_created", "status", "created_at"),
        UniqueConstraint("structure_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(
        ForeignKey("families.id", ondelete="CASCADE"), index=True
    )
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus), default=RequestStatus.PENDING
    )
    refusal_reason: Mapped[str | None] = mapped_column(
        String(500)
    )  # why staff refused (or a closure cancelled) it
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_name: Mapped[str | None] = mapped_column(String(120))
    attachment_file_id: Mapped[str | None] = mapped_column(String(200))
    attachment_kind: Mapped[str | None] = mapped_column(String(16))  # photo, document
    admin_message_id: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(80))


class Message(Scoped, Base):
    """A message of the boîte de réception, between a family and the structure."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(
        ForeignKey("families.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[MessageDirection] = mapped_column(enum_column(MessageDirection))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    author_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    author_name: Mapped[str | None] = mapped_column(String(120))
    attachment_file_id: Mapped[str | None] = mapped_column(String(200))
    attachment_kind: Mapped[str | None] = mapped_column(String(16))
    admin_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Document(Scoped, Base):
    """A document published by staff (règlement intérieur, forms): Infos/Documents."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    telegram_file_id: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(String(200))
    mime_type: Mapped[str | None] = mapped_column(String(80))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(BigInteger)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# --- Money ---------------------------------------------------------------------------------


class Invoice(Scoped, Base):
    """A facture of a family, numbered per régie, never renumbered."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("family_id", "regie_id", "period_start"),
        UniqueConstraint("structure_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    family_id: Mapped[int] = mapped_column(
        ForeignKey("families.id", ondelete="CASCADE"), index=True
    )
    regie_id: Mapped[int] = mapped_column(ForeignKey("regies.id"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Money)

    regie: Mapped[Regie] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.id"
    )


class InvoiceLine(Scoped, Base):
    """One line of an invoice: a child, a service, a quantity at a unit price."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    label: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(Numeric(8, 2, asdecimal=True))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(Scoped, Base):
    """A règlement, optionally allocated to one invoice."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("structure_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    family_id: Mapped[int] = mapped_column(
        ForeignKey("families.id", ondelete="CASCADE"), index=True
    )
    regie_id: Mapped[int] = mapped_column(ForeignKey("regies.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str | None] = mapped_column(String(120))
    telegram_charge_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    recorded_by: Mapped[int | None] = mapped_column(BigInteger)

    regie: Mapped[Regie] = relationship()


# --- Operations ----------------------------------------------------------------------------


class ReminderPreference(Scoped, Base):
    """A parent's choice to receive one kind of reminder or not."""

    __tablename__ = "reminder_preferences"
    __table_args__ = (_account_of_structure(),)

    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structures.id"), primary_key=True, default=current_structure
    )
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ReminderLog(Scoped, Base):
    """Each reminder sent, once per (kind, recipient, subject)."""

    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("structure_id", "kind", "recipient", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[int] = mapped_column(BigInteger)
    subject: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Scoped, Base):
    """A message the bot starts on its own, written in the transaction of the change behind it.

    The sender (`bot.sender`) claims pending rows, renders them with their template in the
    recipient's language, sends them and marks them. `audience` "account" writes to `chat_id`;
    "staff" writes to the admin group, resolved when sent.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "available_at", "id"),
        UniqueConstraint("structure_id", "dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    audience: Mapped[str] = mapped_column(String(16))  # account, staff
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    family_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    priority: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(64))
    message_ids: Mapped[list[int] | None] = mapped_column(JSON)


class AuditEntry(Scoped, Base):
    """What was done, by whom, and whether it was allowed. Never holds health or bank data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))  # parent, staff, anonymous, system
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # ok, refused
    family_id: Mapped[int | None] = mapped_column(BigInteger)
    target: Mapped[str | None] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class HandledUpdate(Scoped, Base):
    """A Telegram update already acted on: a second delivery of the same id changes nothing."""

    __tablename__ = "handled_updates"

    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structures.id"), primary_key=True, default=current_structure
    )
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class FamilyImport(Scoped, Base):
    """One applied import of the commune's families (who, when, what file, what it did).

    A database with a row here holds a real commune: the demo is never loaded into it.
    """

    __tablename__ = "family_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_kind: Mapped[str] = mapped_column(String(16))  # staff, system (the command line)
    source: Mapped[str] = mapped_column(String(200))  # the file's name
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the file
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FamilyImportSnapshot(Scoped, Base):
    """What the last import set on a family, field by field (stored form values).

    A value that differs from the record now was changed since (an accepted request, staff):
    the next import reports the conflict instead of overwriting it silently.
    """

    __tablename__ = "family_import_snapshots"

    family_id: Mapped[int] = mapped_column(
        ForeignKey("families.id", ondelete="CASCADE"), primary_key=True
    )
    import_id: Mapped[int] = mapped_column(ForeignKey("family_imports.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BotState(Scoped, Base):
    """python-telegram-bot's persisted state (conversations, user/chat/bot data)."""

    __tablename__ = "bot_state"

    structure_id: Mapped[int] = mapped_column(
        ForeignKey("structures.id"), primary_key=True, default=current_structure
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
