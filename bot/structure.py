"""The structure's configuration file (`STRUCTURE_FILE`): who we are, régies, services, rules.

A commune states its own services and booking rules here, without code. Parsing is strict: a
bad value raises `StructureConfigError` naming its path in the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.domain.attendance import AttendancePolicy, parse_attendance
from bot.domain.reminders import DEFAULT_OFFSETS_HOURS, Daytime
from bot.domain.rules import (
    ServiceRules,
    StructureConfigError,
    check_requires,
    parse_service_rules,
)
from bot.domain.tariffs import BillingConfig, Tariff, parse_billing, parse_tariff

SCHOOL_HOLIDAY_ZONES = ("A", "B", "C")


@dataclass(frozen=True)
class RegieConfig:
    """A régie as configured."""

    code: str
    name: str
    invoice_prefix: str


@dataclass(frozen=True)
class ServiceConfig:
    """A service (prestation) as configured, with its parsed rules and their raw form."""

    code: str
    name: str
    regie: str
    rules: ServiceRules
    raw_rules: Mapping[str, Any]
    tariff: Tariff | None = None
    """Its prices (``tariffs:``); None when the service is not billed."""
    reminder_offsets: tuple[int, ...] = DEFAULT_OFFSETS_HOURS
    """Hours before each booking cutoff at which parents are reminded (``reminders_hours:``)."""
    attendance: AttendancePolicy = AttendancePolicy()
    """What a no-show and an excused absence cost (``attendance:``)."""


@dataclass(frozen=True)
class Structure:
    """The whole configuration of one structure."""

    name: str
    service_name: str
    address: str
    phone: str
    email: str
    announcement: str
    school_holiday_zone: str
    payment_instructions: str
    online_payment: bool
    regies: tuple[RegieConfig, ...]
    services: tuple[ServiceConfig, ...]
    billing: BillingConfig = BillingConfig()
    certificate_days: int = 2
    """Days a parent has to send the doctor's certificate of a late absence for illness."""
    daytime: Daytime = Daytime()
    """When messages that are not urgent may go out (``notifications.daytime``)."""
    sender: str = ""
    """How parents' messages name the structure, with its article ("le Service Enfance
    Jeunesse", "l’Accueil périscolaire"); `service_name`, then `name`, when not set."""

    def sender_name(self) -> str:
        """Who signs the structure's messages, with its article when the file gives it."""
        return self.sender or self.service_name or self.name

    def service(self, code: str) -> ServiceConfig:
        """The service with this code; KeyError when unknown."""
        for service in self.services:
            if service.code == code:
                return service
        raise KeyError(code)


def load_structure(path: Path) -> Structure:
    """Read and validate a structure file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StructureConfigError(f"{path}: not valid YAML ({exc})") from exc
    return parse_structure(raw)


def parse_structure(raw: Any) -> Structure:
    """Validate a parsed structure mapping."""
    root = _mapping(raw, "(root)")
    info = _mapping(root.get("structure"), "structure")
    regies = tuple(
        _parse_regie(item, f"regies[{i}]")
        for i, item in enumerate(_list(root.get("regies"), "regies"))
    )
    services = tuple(
        _parse_service(item, f"services[{i}]")
        for i, item in enumerate(_list(root.get("services"), "services"))
    )
    _check_unique([r.code for r in regies], "regies")
    _check_unique([s.code for s in services], "services")
    check_requires({s.code: s.rules for s in services})
    regie_codes = {r.code for r in regies}
    for i, service in enumerate(services):
        if service.regie not in regie_codes:
            raise StructureConfigError(f"services[{i}].regie: unknown régie {service.regie!r}")
    zone = _text(info, "school_holiday_zone", "structure").upper()
    if zone not in SCHOOL_HOLIDAY_ZONES:
        raise StructureConfigError(f"structure.school_holiday_zone: {zone!r} is not one of A, B, C")
    return Structure(
        name=_text(info, "name", "structure"),
        service_name=_text(info, "service_name", "structure", default=""),
        sender=_text(info, "sender", "structure", default=""),
        address=_text(info, "address", "structure", default=""),
        phone=_text(info, "phone", "structure", default=""),
        email=_text(info, "email", "structure", default=""),
        announcement=_text(info, "announcement", "structure", default=""),
        school_holiday_zone=zone,
        payment_instructions=_text(info, "payment_instructions", "structure", default=""),
        online_payment=bool(info.get("online_payment", False)),
        regies=regies,
        services=services,
        billing=parse_billing(root.get("billing"), "billing"),
        certificate_days=_certificate_days(root.get("absences")),
        daytime=_daytime(root.get("notifications")),
    )


def _parse_regie(raw: Any, where: str) -> RegieConfig:
    item = _mapping(raw, where)
    return RegieConfig(
        code=_text(item, "code", where),
        name=_text(item, "name", where),
        invoice_prefix=_text(item, "invoice_prefix", where),
    )


def _parse_service(raw: Any, where: str) -> ServiceConfig:
    item = _mapping(raw, where)
    raw_rules = _mapping(item.get("rules"), f"{where}.rules")
    return ServiceConfig(
        code=_text(item, "code", where),
        name=_text(item, "name", where),
        regie=_text(item, "regie", where),
        rules=parse_service_rules(raw_rules, where=f"{where}.rules"),
        raw_rules=raw_rules,
        tariff=parse_tariff(item["tariffs"], f"{where}.tariffs")
        if item.get("tariffs") is not None
        else None,
        reminder_offsets=_reminder_offsets(item.get("reminders_hours"), f"{where}.reminders_hours"),
        attendance=parse_attendance(item.get("attendance"), f"{where}.attendance"),
    )


def _certificate_days(value: Any) -> int:
    if value is None:
        return 2
    days = _mapping(value, "absences").get("certificate_days", 2)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 30:
        raise StructureConfigError(
            "absences.certificate_days: expected a number of days from 0 to 30"
        )
    return days


def _daytime(value: Any) -> Daytime:
    if value is None:
        return Daytime()
    raw = _mapping(value, "notifications").get("daytime")
    if raw is None:
        return Daytime()
    window = _mapping(raw, "notifications.daytime")
    start = _clock_time(window.get("from", "08:00"), "notifications.daytime.from")
    end = _clock_time(window.get("to", "20:00"), "notifications.daytime.to")
    if not start < end:
        raise StructureConfigError(
            "notifications.daytime: 'from' must be before 'to' (e.g. from: \"08:00\", to: \"20:00\")"
        )
    return Daytime(start, end)


def _clock_time(value: Any, where: str) -> dt.time:
    try:
        return (
            dt.time.fromisoformat(value)
            if isinstance(value, str) and len(value) == 5
            else _bad_time(where)
        )
    except ValueError:
        return _bad_time(where)


def _bad_time(where: str) -> dt.time:
    raise StructureConfigError(f'{where}: expected a time "HH:MM" in quotes, e.g. "08:00"')


def _reminder_offsets(value: Any, where: str) -> tuple[int, ...]:
    if value is None:
        return DEFAULT_OFFSETS_HOURS
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 24 * 14 for v in value
    ):
        raise StructureConfigError(
            f"{where}: expected a list of hours between 1 and 336, e.g. [24, 2]"
        )
    return tuple(sorted(set(value), reverse=True))


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise StructureConfigError(f"{where}: expected a mapping")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise StructureConfigError(f"{where}: expected a non-empty list")
    return value


def _text(item: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if (
        value is None
        or not isinstance(value, (str, int))
        or (str(value).strip() == "" and default is None)
    ):
        raise StructureConfigError(f"{where}.{key}: required text is missing")
    return str(value).strip()


def _check_unique(codes: list[str], where: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise StructureConfigError(f"{where}: code {code!r} is used twice")
        seen.add(code)
