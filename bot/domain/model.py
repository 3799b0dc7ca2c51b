"""Vocabulary of the domain: the statuses and kinds the seed portal names.

Plain enums shared by every layer; their values are what the database stores, so they never
change once released. User-facing labels live in `bot.texts`, not here.
"""

from __future__ import annotations

from enum import StrEnum


class DayStatus(StrEnum):
    """Status of one child's day for one service, as in the seed planning legend."""

    RESERVED = "reserved"  # Réservé
    REGULAR = "regular"  # Régulier
    PENDING = "pending"  # Demande en attente (waiting list)
    BOOKING_PROCESSING = "booking_processing"  # Réservation en cours de traitement
    BOOKING_REFUSED = "booking_refused"  # Réservation refusée
    ABSENCE_PROCESSING = "absence_processing"  # Absence en cours de traitement
    ABSENT_EXCUSED = "absent_excused"  # Absent excusé
    ABSENT_BILLED = "absent_billed"  # Absent facturé
    PRESENT = "present"  # Présent
    CANCELLED = "cancelled"  # booking cancelled in time: nothing billed


class RequestKind(StrEnum):
    """What a parent asks the structure; the seed "Liste des demandes" filters by these."""

    RESPONSABLE = "responsable"
    CONJOINT = "conjoint"
    FISCAL = "fiscal"
    CAF = "caf"
    BANK = "bank"
    ADD_CHILD = "add_child"
    CHILD_DATA = "child_data"
    AUTHORIZATION = "authorization"
    AUTHORIZATION_REMOVAL = "authorization_removal"
    HEALTH = "health"
    ENROLMENT = "enrolment"
    BOOKING = "booking"
    ABSENCE = "absence"


class RequestStatus(StrEnum):
    """Where a request stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class GuardianRole(StrEnum):
    """The two adults of a family record in the seed portal."""

    RESPONSABLE = "responsable"
    CONJOINT = "conjoint"


class Regime(StrEnum):
    """Régime allocataire (Informations fiscales)."""

    CAF = "caf"
    MSA = "msa"
    OTHER = "other"


class Custody(StrEnum):
    """Which weeks a child is in a family's care (garde alternée)."""

    FULL = "full"
    ODD_WEEKS = "odd_weeks"
    EVEN_WEEKS = "even_weeks"


class MessageDirection(StrEnum):
    """Boîte de réception: from the family to the structure, or the other way."""

    FROM_FAMILY = "from_family"
    FROM_STRUCTURE = "from_structure"


class PaymentMethod(StrEnum):
    """How a règlement was made."""

    CHEQUE = "cheque"
    CASH = "cash"
    CESU = "cesu"
    DIRECT_DEBIT = "direct_debit"
    CARD = "card"
    TITRE = "titre"  # Titre émis (trésorerie)
    ONLINE = "online"


class HealthItemKind(StrEnum):
    """Données sanitaires other than vaccinations."""

    ALLERGY = "allergy"
    ILLNESS = "illness"
    CONTRAINDICATION = "contraindication"
    PAI = "pai"


class AbsenceReason(StrEnum):
    """Reason given when declaring an absence."""

    ILLNESS = "illness"  # maladie
    PERSONAL = "personal"  # convenance personnelle
    OTHER = "other"  # autre


# A child holds a place on that day (counts against the service's capacity).
PLACE_HOLDING_STATUSES = frozenset(
    {
        DayStatus.RESERVED,
        DayStatus.REGULAR,
        DayStatus.BOOKING_PROCESSING,
        DayStatus.ABSENCE_PROCESSING,
        DayStatus.PRESENT,
    }
)
# A child is expected on that day (the headcount, the cantine order).
EXPECTED_STATUSES = frozenset({DayStatus.RESERVED, DayStatus.REGULAR, DayStatus.PRESENT})
