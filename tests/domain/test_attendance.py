"""Attendance: what a day becomes when the session closes, and what it bills."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.attendance import (
    AttendancePolicy,
    after_session,
    current_service,
    is_hors_contrat,
    parse_attendance,
    parse_contract_days,
    quarter_hours,
)
from bot.domain.billing import (
    BillableService,
    BillingPeriod,
    DayConsumption,
    billed_units,
    compute_invoices,
)
from bot.domain.model import DayStatus
from bot.domain.rules import StructureConfigError
from bot.domain.tariffs import Basis, Bracket, Tariff, Unit, parse_tariff

S = DayStatus
BILLED_NO_SHOW = AttendancePolicy()
FREE_NO_SHOW = AttendancePolicy(no_show_billed=False)


@pytest.mark.parametrize(
    ("planned", "present", "policy", "expected"),
    [
        (S.RESERVED, True, BILLED_NO_SHOW, S.PRESENT),
        (S.REGULAR, True, BILLED_NO_SHOW, S.PRESENT),
        (None, True, BILLED_NO_SHOW, S.PRESENT),  # hors contrat
        (S.CANCELLED, True, BILLED_NO_SHOW, S.PRESENT),
        (S.RESERVED, False, BILLED_NO_SHOW, S.ABSENT_BILLED),
        (S.REGULAR, False, BILLED_NO_SHOW, S.ABSENT_BILLED),
        (S.RESERVED, False, FREE_NO_SHOW, S.ABSENT_EXCUSED),
        (S.REGULAR, False, FREE_NO_SHOW, S.ABSENT_EXCUSED),
        (S.PRESENT, False, BILLED_NO_SHOW, S.ABSENT_BILLED),  # unticked after closing
        (None, False, BILLED_NO_SHOW, None),
        (S.CANCELLED, False, BILLED_NO_SHOW, S.CANCELLED),
        (S.ABSENT_EXCUSED, False, BILLED_NO_SHOW, S.ABSENT_EXCUSED),
        (S.ABSENCE_PROCESSING, False, BILLED_NO_SHOW, S.ABSENCE_PROCESSING),
        (S.ABSENT_BILLED, False, FREE_NO_SHOW, S.ABSENT_BILLED),
        (S.BOOKING_PROCESSING, False, BILLED_NO_SHOW, S.BOOKING_PROCESSING),
    ],
)
def test_a_closed_session_turns_the_planned_day_into_what_happened(
    planned: DayStatus | None, present: bool, policy: AttendancePolicy, expected: DayStatus | None
) -> None:
    assert after_session(planned, present, policy) is expected


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        (None, True),
        (S.CANCELLED, True),
        (S.BOOKING_REFUSED, True),
        (S.ABSENT_EXCUSED, True),
        (S.PENDING, True),
        (S.RESERVED, False),
        (S.REGULAR, False),
        (S.BOOKING_PROCESSING, False),
        (S.ABSENCE_PROCESSING, False),
        (S.ABSENT_BILLED, False),
    ],
)
def test_a_present_child_without_a_booking_is_hors_contrat(
    planned: DayStatus | None, expected: bool
) -> None:
    assert is_hors_contrat(planned) is expected


T = dt.time
STARTS, ENDS = T(16, 30), T(18, 30)


@pytest.mark.parametrize(
    ("arrival", "departure", "expected"),
    [
        (T(16, 30), T(17, 0), 2),
        (T(16, 30), T(17, 1), 3),  # a started quarter-hour is due
        (T(16, 30), T(16, 31), 1),
        (None, None, 8),  # the whole session
        (T(16, 30), None, 8),
        (None, T(17, 15), 3),
        (T(16, 0), T(17, 0), 2),  # ticked before the session starts: counted from its start
        (T(16, 40), T(19, 10), 8),  # left after the end: counted to the end (110 min)
        (T(18, 30), T(18, 30), 1),  # there, if only a moment
        (T(17, 0), T(16, 45), 1),
    ],
)
def test_quarter_hours_count_every_started_quarter_within_the_session(
    arrival: dt.time | None, departure: dt.time | None, expected: int
) -> None:
    assert quarter_hours(arrival, departure, STARTS, ENDS) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, AttendancePolicy(no_show_billed=True, excused_billed=False)),
        ({}, AttendancePolicy()),
        ({"no_show": "free"}, AttendancePolicy(no_show_billed=False)),
        ({"excused_absence": "billed"}, AttendancePolicy(excused_billed=True)),
        (
            {"no_show": "billed", "excused_absence": "free"},
            AttendancePolicy(no_show_billed=True, excused_billed=False),
        ),
    ],
)
def test_the_attendance_block_of_a_service_is_read(raw: object, expected: AttendancePolicy) -> None:
    assert parse_attendance(raw, "services[0].attendance") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("billed", "services[0].attendance: expected a mapping"),
        (
            {"no_show": "maybe"},
            "services[0].attendance.no_show: 'maybe' is not one of billed, free",
        ),
        ({"late": "billed"}, "services[0].attendance.late: unknown key"),
        ({"no_show": True}, "services[0].attendance.no_show: True is not one of"),
    ],
)
def test_a_bad_attendance_block_names_its_path(raw: object, message: str) -> None:
    with pytest.raises(StructureConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_attendance(raw, "services[0].attendance")


def test_a_tariff_counting_quarter_hours_has_prices_per_quarter_hour() -> None:
    tariff = parse_tariff(
        {"counts": "quarter_hours", "hors_contrat": "0.80", "prices": [{"price": "0.50"}]}, "t"
    )
    assert (tariff.counts, tariff.unit, tariff.hors_contrat) == (
        Basis.QUARTER_HOURS,
        Unit.QUARTER_HOUR,
        Decimal("0.80"),
    )
    assert parse_tariff({"prices": [{"price": "1"}]}, "t").counts is Basis.BOOKED
    with pytest.raises(StructureConfigError, match=r"t\.counts: 'hours' is not one of"):
        parse_tariff({"counts": "hours", "prices": [{"price": "1"}]}, "t")


def _service(basis: Basis, policy: AttendancePolicy = BILLED_NO_SHOW) -> BillableService:
    tariff = Tariff(
        brackets=(Bracket(Decimal("2.00")),), counts=basis, hors_contrat=Decimal("3.00")
    )
    return BillableService("soir", "Garderie soir", "AL", tariff, policy, STARTS, ENDS)


DAY = dt.date(2026, 10, 5)
FREE_EXCUSED = AttendancePolicy(excused_billed=False)
BILLED_EXCUSED = AttendancePolicy(excused_billed=True)


@pytest.mark.parametrize(
    ("basis", "status", "policy", "times", "units"),
    [
        (Basis.BOOKED, S.RESERVED, FREE_EXCUSED, None, 1),  # a session never closed
        (Basis.BOOKED, S.REGULAR, FREE_EXCUSED, None, 1),
        (Basis.BOOKED, S.PRESENT, FREE_EXCUSED, None, 1),
        (Basis.BOOKED, S.ABSENT_BILLED, FREE_EXCUSED, None, 1),
        (Basis.BOOKED, S.ABSENT_EXCUSED, FREE_EXCUSED, None, 0),
        (Basis.BOOKED, S.ABSENT_EXCUSED, BILLED_EXCUSED, None, 1),
        (Basis.BOOKED, S.CANCELLED, BILLED_EXCUSED, None, 0),
        (Basis.PRESENT, S.RESERVED, FREE_EXCUSED, None, 0),
        (Basis.PRESENT, S.REGULAR, FREE_EXCUSED, None, 0),
        (Basis.PRESENT, S.PRESENT, FREE_EXCUSED, None, 1),
        (Basis.PRESENT, S.ABSENT_BILLED, FREE_EXCUSED, None, 1),
        (Basis.PRESENT, S.ABSENCE_PROCESSING, FREE_EXCUSED, None, 1),
        (Basis.PRESENT, S.ABSENT_EXCUSED, FREE_EXCUSED, None, 0),
        (Basis.PRESENT, S.ABSENT_EXCUSED, BILLED_EXCUSED, None, 1),
        (Basis.QUARTER_HOURS, S.PRESENT, FREE_EXCUSED, (T(16, 30), T(17, 10)), 3),
        (Basis.QUARTER_HOURS, S.PRESENT, FREE_EXCUSED, (None, None), 8),
        (Basis.QUARTER_HOURS, S.ABSENT_BILLED, FREE_EXCUSED, None, 8),
        (Basis.QUARTER_HOURS, S.ABSENT_EXCUSED, BILLED_EXCUSED, None, 8),
        (Basis.QUARTER_HOURS, S.ABSENT_EXCUSED, FREE_EXCUSED, None, 0),
        (Basis.QUARTER_HOURS, S.RESERVED, FREE_EXCUSED, None, 0),
    ],
)
def test_a_day_bills_the_units_its_tariff_counts(
    basis: Basis,
    status: DayStatus,
    policy: AttendancePolicy,
    times: tuple[dt.time | None, dt.time | None] | None,
    units: int,
) -> None:
    arrival, departure = times or (None, None)
    entry = DayConsumption(1, "soir", DAY, status, arrival=arrival, departure=departure)
    assert billed_units(entry, _service(basis, policy)) == units


def test_a_present_child_without_a_booking_gets_a_hors_contrat_line_at_its_price() -> None:
    entries = [
        DayConsumption(1, "soir", DAY, S.PRESENT),
        DayConsumption(1, "soir", DAY + dt.timedelta(days=1), S.ABSENT_BILLED),
        DayConsumption(1, "soir", DAY + dt.timedelta(days=3), S.PRESENT, hors_contrat=True),
    ]
    (invoice,) = compute_invoices(
        entries,
        period=BillingPeriod.month(2026, 10),
        services={"soir": _service(Basis.PRESENT)},
        children={1: "LUCAS"},
        quotient=None,
        regime=None,
        runs=lambda _code, _day: True,
    )
    booked, extra = invoice.lines
    assert (booked.quantity, booked.amount, booked.days, booked.present_days) == (
        Decimal(2),
        Decimal("4.00"),
        2,
        1,
    )
    assert (booked.absent_billed, booked.hors_contrat) == (1, False)
    assert (extra.quantity, extra.unit_price, extra.amount, extra.hors_contrat) == (
        Decimal(1),
        Decimal("3.00"),
        Decimal("3.00"),
        True,
    )
    assert invoice.total == Decimal("7.00")


SESSIONS = [
    ("garderie_matin", T(7, 30), T(8, 30)),
    ("garderie_soir", T(16, 30), T(18, 30)),
    ("gouter", T(16, 30), T(17, 0)),
    ("cantine", T(11, 45), T(13, 30)),
]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T(7, 45), "garderie_matin"),
        (T(6, 0), "garderie_matin"),  # the next one
        (T(9, 0), "cantine"),
        (T(16, 45), "garderie_soir"),  # running both: the file's order decides
        (T(20, 0), "garderie_soir"),  # after the last: the last to end
    ],
)
def test_pointage_opens_the_session_running_now_by_default(now: dt.time, expected: str) -> None:
    assert current_service(SESSIONS, now) == expected
    assert current_service([], now) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lun,mar,jeu", frozenset({0, 1, 3})),
        ("Lundi Jeudi", frozenset({0, 3})),
        ("mon;fri", frozenset({0, 4})),
        ("mer", frozenset({2})),
        ("lun,xyz", None),
        ("", None),
    ],
)
def test_contract_days_are_read_as_staff_write_them(
    text: str, expected: frozenset[int] | None
) -> None:
    assert parse_contract_days(text) == expected
