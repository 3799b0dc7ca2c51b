"""Importing a commune's families from its software's export: the columns, the checks, the plan.

Pure rules, no I/O. A file has one line per child with the family's columns repeated (the
layout an export naturally has). `parse_rows` checks every cell with the validators of the
parents' change requests (`bot.domain.forms`, `bot.domain.validators`) and groups the lines
into families; `plan_import` compares them with the records and with what the last import set
(the family's snapshot) and says, field by field, what to create, update or leave — and where
a value changed since the last import (an accepted request of the parents, a change by staff)
conflicts with the file. Values are compared in the stored string form of the forms
(`forms.from_python`): "06 12 34 56 78", "2019-02-28", "850.00", "yes".
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain import forms
from bot.domain.calendar import WEEKDAY_CODES
from bot.domain.forms import EMPTY, NO, YES, Field, FieldKind
from bot.domain.validators import ValidationError

MAX_NUMBER_LENGTH = 32
_FAMILY_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")


class Section(StrEnum):
    """Which record a column fills."""

    FAMILY = "family"
    RESPONSABLE = "responsable"
    CONJOINT = "conjoint"
    CHILD = "child"


NUMBER_KEY = "number"
SERVICES_KEY = "services"


@dataclass(frozen=True)
class Column:
    """A column of the import file: its header, the record and attribute it fills, its rule."""

    header: str
    section: Section
    key: str
    field: Field | None = None
    required: bool = False
    example: str = ""
    aliases: tuple[str, ...] = ()


def _form_field(form: forms.Form, key: str) -> Field:
    return form.field(key)


_GUARDIAN_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (attribute, header, example)
    ("civility", "Civilité", "Monsieur"),
    ("last_name", "Nom", "DUPONT"),
    ("first_name", "Prénom", "JEAN"),
    ("quality", "Qualité", "Père"),
    ("address", "Adresse", "12 rue des Écoles"),
    ("postal_code", "Code postal", "31400"),
    ("city", "Ville", "TOULOUSE"),
    ("phone_home", "Téléphone domicile", "05 61 00 00 00"),
    ("phone_work", "Téléphone travail", ""),
    ("phone_mobile", "Téléphone portable", "06 12 34 56 78"),
    ("email", "Email", "jean.dupont@example.fr"),
    ("email_consent", "Accord email", "oui"),
    ("sms_consent", "Accord SMS", "oui"),
)


def _guardian_columns(
    section: Section, form: forms.Form, prefix: str, examples: bool
) -> list[Column]:
    columns = []
    for key, header, example in _GUARDIAN_COLUMNS:
        title = f"{prefix}{header[0].lower()}{header[1:]}" if prefix else header
        columns.append(
            Column(
                title,
                section,
                key,
                _form_field(form, key),
                required=section is Section.RESPONSABLE and key in ("last_name", "first_name"),
                example=example if examples else "",
                aliases=(f"{prefix}{header}",) if prefix else (f"Responsable {header}",),
            )
        )
    return columns


COLUMNS: tuple[Column, ...] = (
    Column(
        "N° famille",
        Section.FAMILY,
        NUMBER_KEY,
        required=True,
        example="1001001818331",
        aliases=("Numéro famille", "No famille", "Num famille", "Numéro de famille", "Famille"),
    ),
    *_guardian_columns(Section.RESPONSABLE, forms.RESPONSABLE, "", True),
    *_guardian_columns(Section.CONJOINT, forms.CONJOINT, "Conjoint ", False),
    Column(
        "Régime",
        Section.FAMILY,
        "regime",
        _form_field(forms.FISCAL, "regime"),
        example="CAF",
        aliases=("Régime allocataire",),
    ),
    Column(
        "N° allocataire",
        Section.FAMILY,
        "caf_number",
        _form_field(forms.CAF, "caf_number"),
        example="1234567",
        aliases=("Numéro allocataire", "No allocataire", "N° CAF"),
    ),
    Column(
        "Quotient familial",
        Section.FAMILY,
        "quotient_familial",
        _form_field(forms.CAF, "quotient_familial"),
        example="850",
        aliases=("QF",),
    ),
    Column("IBAN", Section.FAMILY, "iban", _form_field(forms.BANK, "iban")),
    Column("BIC", Section.FAMILY, "bic", _form_field(forms.BANK, "bic")),
    Column(
        "Titulaire du compte",
        Section.FAMILY,
        "account_holder",
        _form_field(forms.BANK, "account_holder"),
    ),
    Column(
        "Enfant nom",
        Section.CHILD,
        "last_name",
        _form_field(forms.CHILD_DATA, "last_name"),
        required=True,
        example="DUPONT",
        aliases=("Nom enfant", "Nom de l'enfant"),
    ),
    Column(
        "Enfant prénom",
        Section.CHILD,
        "first_name",
        _form_field(forms.CHILD_DATA, "first_name"),
        required=True,
        example="LUCAS",
        aliases=("Prénom enfant", "Prénom de l'enfant"),
    ),
    Column(
        "Enfant date de naissance",
        Section.CHILD,
        "birth_date",
        _form_field(forms.CHILD_DATA, "birth_date"),
        required=True,
        example="12/06/2018",
        aliases=("Date de naissance", "Date de naissance enfant", "Né le"),
    ),
    Column(
        "Enfant sexe",
        Section.CHILD,
        "sex",
        _form_field(forms.CHILD_DATA, "sex"),
        example="M",
        aliases=("Sexe", "Sexe enfant"),
    ),
    Column(
        "École",
        Section.CHILD,
        "school",
        _form_field(forms.CHILD_DATA, "school"),
        example="École Jules Ferry",
        aliases=("Ecole", "Établissement"),
    ),
    Column(
        "Classe",
        Section.CHILD,
        "class_name",
        _form_field(forms.CHILD_DATA, "class_name"),
        example="CE1",
        aliases=("Niveau",),
    ),
    Column(
        "Services",
        Section.CHILD,
        SERVICES_KEY,
        example="cantine (lun mar jeu ven), garderie_matin",
        aliases=("Inscriptions", "Prestations"),
    ),
)
GUARDIAN_NAME_KEYS = ("last_name", "first_name")
CHILD_KEY_FIELDS = ("last_name", "first_name", "birth_date")


def header_key(header: str) -> str:
    """A header as compared: no accent, no case, no punctuation ("N° famille" → "nfamille")."""
    plain = unicodedata.normalize("NFKD", header)
    plain = (
        "".join(c for c in plain if not unicodedata.combining(c))
        .lower()
        .replace("°", "")
        .replace("º", "")
    )
    return re.sub(r"[^a-z0-9]", "", plain)


_BY_HEADER: dict[str, Column] = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        _BY_HEADER.setdefault(header_key(_name), _column)


def column_for(header: str) -> Column | None:
    """The column a header of the file stands for."""
    return _BY_HEADER.get(header_key(header))


def template_rows() -> tuple[list[str], list[str]]:
    """The template's header row and its one example line."""
    return [c.header for c in COLUMNS], [c.example for c in COLUMNS]


# --- Problems ------------------------------------------------------------------------------


class Issue(StrEnum):
    """Problems of the import file beyond a value's own check (`validators.Problem`)."""

    MISSING_COLUMN = "missing_column"
    DUPLICATE_COLUMN = "duplicate_column"
    MISSING_NUMBER = "missing_number"
    BAD_NUMBER = "bad_number"
    REQUIRED = "required"
    CHOICE = "choice"
    INCONSISTENT = "inconsistent"
    DUPLICATE_CHILD = "duplicate_child"
    UNKNOWN_SERVICE = "unknown_service"
    BAD_WEEKDAY = "bad_weekday"
    DAY_NOT_RUN = "day_not_run"
    SERVICES_SYNTAX = "services_syntax"


@dataclass(frozen=True)
class ImportProblem:
    """One error of the file: where (line, column header) and why (a Problem or an Issue code)."""

    line: int | None
    column: str | None
    code: str
    value: str = ""
    detail: Mapping[str, str] = field(default_factory=dict)


class _Refused(ValueError):
    def __init__(self, code: str, **detail: str) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


# --- Reading the cells ---------------------------------------------------------------------

_CIVILITIES = {
    "m": "Monsieur",
    "mr": "Monsieur",
    "monsieur": "Monsieur",
    "mme": "Madame",
    "madame": "Madame",
    "mlle": "Madame",
    "mademoiselle": "Madame",
    "mrs": "Madame",
    "ms": "Madame",
}
_REGIMES = {"caf": "caf", "msa": "msa", "autre": "other", "other": "other", "aucun": "other"}
_SEXES = {
    "m": "M",
    "g": "M",
    "garcon": "M",
    "masculin": "M",
    "f": "F",
    "fille": "F",
    "feminin": "F",
}
_YES = {"oui", "o", "yes", "y", "1", "x", "vrai", "true"}
_NO = {"non", "n", "no", "0", "faux", "false"}
_WEEKDAYS = {
    **{code: code for code in WEEKDAY_CODES},
    "lu": "mon",
    "lun": "mon",
    "lundi": "mon",
    "ma": "tue",
    "mar": "tue",
    "mardi": "tue",
    "me": "wed",
    "mer": "wed",
    "mercredi": "wed",
    "je": "thu",
    "jeu": "thu",
    "jeudi": "thu",
    "ve": "fri",
    "ven": "fri",
    "vendredi": "fri",
    "sa": "sat",
    "sam": "sat",
    "samedi": "sat",
    "di": "sun",
    "dim": "sun",
    "dimanche": "sun",
}
CHOICE_WORDS: dict[str, str] = {
    "civility": "Monsieur, Madame",
    "regime": "CAF, MSA, Autre",
    "sex": "M, F",
    "yes_no": "oui, non",
}


def _plain_word(raw: str) -> str:
    value = unicodedata.normalize("NFKD", raw.strip().lower().rstrip("."))
    return "".join(c for c in value if not unicodedata.combining(c))


def normalise_cell(column: Column, raw: str, today: dt.date) -> str:
    """The stored form of a cell (EMPTY when blank); raises `ValidationError` or `_Refused`."""
    value = raw.strip()
    assert column.field is not None
    item = column.field
    if item.kind is FieldKind.YES_NO:
        word = _plain_word(value)
        if not word:
            return NO
        if word in _YES:
            return YES
        if word in _NO:
            return NO
        raise _Refused(Issue.CHOICE, allowed=CHOICE_WORDS["yes_no"])
    if not value:
        return EMPTY
    if item.kind is FieldKind.CHOICE:
        table = {"civility": _CIVILITIES, "regime": _REGIMES, "sex": _SEXES}[column.key]
        word = _plain_word(value)
        if word not in table:
            raise _Refused(Issue.CHOICE, allowed=CHOICE_WORDS[column.key])
        return table[word]
    if item.kind is FieldKind.POSTAL_CODE and value.isdigit() and len(value) == 4:
        value = "0" + value  # a spreadsheet dropped the leading zero of 01000
    return forms.normalise(item, value, today)


def parse_services(raw: str, runs_on: Mapping[str, frozenset[int]]) -> dict[str, str | None]:
    """ "cantine (lun mar jeu ven), garderie_matin" → {"cantine": "mon,tue,thu,fri", "garderie_matin": None}.

    `runs_on` gives each service code of the structure and the weekdays it runs.
    """
    result: dict[str, str | None] = {}
    known = {code.lower(): code for code in runs_on}
    position, text = 0, raw.strip()
    token = re.compile(r"\s*([A-Za-z0-9_-]+)\s*(?:\(([^)]*)\))?\s*(?:[,;|+]|\s|$)")
    while position < len(text):
        match = token.match(text, position)
        if match is None or match.end() == position:
            raise _Refused(Issue.SERVICES_SYNTAX)
        position = match.end()
        code = known.get(match.group(1).lower())
        if code is None:
            raise _Refused(
                Issue.UNKNOWN_SERVICE, service=match.group(1), known=", ".join(sorted(runs_on))
            )
        days = None
        if match.group(2) is not None and match.group(2).strip():
            chosen = []
            for word in re.split(r"[\s,;/-]+", match.group(2).strip()):
                day = _WEEKDAYS.get(_plain_word(word)) if word else None
                if day is None:
                    raise _Refused(Issue.BAD_WEEKDAY, day=word, service=code)
                if WEEKDAY_CODES.index(day) not in runs_on[code]:
                    raise _Refused(Issue.DAY_NOT_RUN, day=word, service=code)
                if day not in chosen:
                    chosen.append(day)
            days = ",".join(sorted(chosen, key=WEEKDAY_CODES.index))
        result[code] = days
    return result


def name_key(value: str) -> str:
    """A name as compared: no accent, no case, hyphens and spaces alike."""
    plain = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.split(r"[\s\-']+", plain)).strip()


def child_key(values: Mapping[str, str]) -> tuple[str, str, str]:
    """How a child is recognised: last name, first name and date of birth."""
    return (
        name_key(values.get("last_name", "")),
        name_key(values.get("first_name", "")),
        values.get("birth_date", ""),
    )


# --- Grouping the lines into families -------------------------------------------------------


@dataclass
class ChildRecord:
    """A child as the file gives it."""

    line: int
    values: dict[str, str]
    services: dict[str, str | None] | None
    """Service code → regular weekdays ("mon,thu") or None; None when there is no Services column."""

    @property
    def key(self) -> tuple[str, str, str]:
        """Last name, first name, date of birth (compared without case nor accents)."""
        return child_key(self.values)

    @property
    def label(self) -> str:
        """ "LUCAS DUPONT"."""
        return f"{self.values.get('first_name', '')} {self.values.get('last_name', '')}".strip()


@dataclass
class FamilyRecord:
    """A family as the file gives it (its lines merged)."""

    number: str
    line: int
    sections: dict[Section, dict[str, str]]
    children: list[ChildRecord] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    _where: dict[tuple[Section, str], int] = field(default_factory=dict, repr=False)

    def name(self) -> str:
        """ "DUPONT JEAN"."""
        values = self.sections.get(Section.RESPONSABLE, {})
        return f"{values.get('last_name', '')} {values.get('first_name', '')}".strip()


@dataclass(frozen=True)
class ParsedFile:
    """The families of the file, and every problem found, by line."""

    families: tuple[FamilyRecord, ...]
    problems: tuple[ImportProblem, ...]
    columns: tuple[Column, ...]
    ignored_headers: tuple[str, ...]
    lines: int

    @property
    def managed(self) -> dict[Section, set[str]]:
        """The attributes the file has a column for, per record."""
        result: dict[Section, set[str]] = {section: set() for section in Section}
        for column in self.columns:
            if column.key != NUMBER_KEY:
                result[column.section].add(column.key)
        return result

    @property
    def has_services(self) -> bool:
        """Whether the file says which services each child is enrolled in."""
        return any(c.key == SERVICES_KEY for c in self.columns)


def parse_rows(
    headers: Sequence[str],
    rows: Iterable[tuple[int, Sequence[str]]],
    *,
    today: dt.date,
    runs_on: Mapping[str, frozenset[int]],
) -> ParsedFile:
    """Check every cell and group the lines by N° famille (see the module doc)."""
    problems: list[ImportProblem] = []
    columns: list[tuple[int, Column]] = []
    ignored: list[str] = []
    seen: dict[Column, str] = {}
    for index, header in enumerate(headers):
        column = column_for(header) if header.strip() else None
        if column is None:
            if header.strip():
                ignored.append(header)
            continue
        if column in seen:
            problems.append(
                ImportProblem(1, header, Issue.DUPLICATE_COLUMN, detail={"other": seen[column]})
            )
            continue
        seen[column] = header
        columns.append((index, column))
    for column in COLUMNS:
        if column.required and column not in seen:
            problems.append(ImportProblem(1, column.header, Issue.MISSING_COLUMN))
    if any(p.code == Issue.MISSING_COLUMN for p in problems):
        return ParsedFile((), tuple(problems), tuple(c for _i, c in columns), tuple(ignored), 0)

    families: dict[str, FamilyRecord] = {}
    count = 0
    number_header = seen[COLUMNS[0]]
    for line, cells in rows:
        count += 1
        cell = {
            column: (cells[index] if index < len(cells) else "").strip()
            for index, column in columns
        }
        number = cell[COLUMNS[0]]
        if not number:
            problems.append(ImportProblem(line, number_header, Issue.MISSING_NUMBER))
            continue
        if not _FAMILY_NUMBER.match(number):
            problems.append(ImportProblem(line, number_header, Issue.BAD_NUMBER, number))
            continue
        values: dict[Section, dict[str, str]] = {section: {} for section in Section}
        services: dict[str, str | None] | None = None
        for column, raw in cell.items():
            if column.key == NUMBER_KEY:
                continue
            try:
                if column.key == SERVICES_KEY:
                    services = parse_services(raw, runs_on) if raw.strip() else {}
                else:
                    values[column.section][column.key] = normalise_cell(column, raw, today)
            except ValidationError as exc:
                problems.append(
                    ImportProblem(line, seen[column], exc.code.value, _shown(column, raw))
                )
            except _Refused as exc:
                problems.append(
                    ImportProblem(line, seen[column], exc.code, _shown(column, raw), exc.detail)
                )
        family = families.get(number)
        if family is None:
            family = FamilyRecord(
                number,
                line,
                {s: {} for s in (Section.FAMILY, Section.RESPONSABLE, Section.CONJOINT)},
            )
            families[number] = family
        family.lines.append(line)
        for section in (Section.FAMILY, Section.RESPONSABLE, Section.CONJOINT):
            for key, value in values[section].items():
                _merge(family, section, key, value, line, seen, problems)
        child_values = values[Section.CHILD]
        if any(v for v in child_values.values()) or services:
            _add_child(
                family,
                ChildRecord(line, child_values, services if services is not None else None),
                seen,
                problems,
            )
        elif services is None and any(c.key == SERVICES_KEY for _i, c in columns):
            pass
    for family in families.values():
        _check_guardians(family, seen, problems)
    problems.sort(key=lambda p: (p.line or 0, _column_order(p.column, headers)))
    return ParsedFile(
        tuple(families.values()),
        tuple(problems),
        tuple(c for _i, c in columns),
        tuple(ignored),
        count,
    )


def _column_order(header: str | None, headers: Sequence[str]) -> int:
    if header is None or header not in headers:
        return len(headers)
    return list(headers).index(header)


def _shown(column: Column, raw: str) -> str:
    value = raw.strip()
    if column.field is not None and column.field.sensitive and len(value) > 4:
        return "•" * (len(value) - 4) + value[-4:]
    return value[:80]


def _merge(
    family: FamilyRecord,
    section: Section,
    key: str,
    value: str,
    line: int,
    headers: Mapping[Column, str],
    problems: list[ImportProblem],
) -> None:
    current = family.sections[section].get(key)
    if current is None or (current in (EMPTY, NO) and value not in (EMPTY, NO)):
        family.sections[section][key] = value
        family._where[(section, key)] = line
        return
    if value in (EMPTY, NO) or value == current:
        return
    column = next(c for c in headers if c.section is section and c.key == key)
    problems.append(
        ImportProblem(
            line,
            headers[column],
            Issue.INCONSISTENT,
            value,
            {"other_line": str(family._where[(section, key)]), "other": current},
        )
    )


def _add_child(
    family: FamilyRecord,
    child: ChildRecord,
    headers: Mapping[Column, str],
    problems: list[ImportProblem],
) -> None:
    for column, header in headers.items():
        if (
            column.section is Section.CHILD
            and column.required
            and not child.values.get(column.key)
            and not any(p.line == child.line and p.column == header for p in problems)
        ):
            problems.append(ImportProblem(child.line, header, Issue.REQUIRED))
    twin = next((c for c in family.children if c.key == child.key), None)
    if twin is not None and all(child.key):
        first = next(
            h for c, h in headers.items() if c.section is Section.CHILD and c.key == "first_name"
        )
        problems.append(
            ImportProblem(
                child.line,
                first,
                Issue.DUPLICATE_CHILD,
                child.label,
                {"other_line": str(twin.line)},
            )
        )
        return
    family.children.append(child)


def _check_guardians(
    family: FamilyRecord, headers: Mapping[Column, str], problems: list[ImportProblem]
) -> None:
    for section in (Section.RESPONSABLE, Section.CONJOINT):
        values = family.sections[section]
        if section is Section.CONJOINT and not any(v not in (EMPTY, NO) for v in values.values()):
            family.sections[section] = {}
            continue
        for key in GUARDIAN_NAME_KEYS:
            column = next((c for c in headers if c.section is section and c.key == key), None)
            if column is None or values.get(key):
                continue
            if not any(p.line == family.line and p.column == headers[column] for p in problems):
                problems.append(ImportProblem(family.line, headers[column], Issue.REQUIRED))


# --- Comparing with the records -------------------------------------------------------------


class Action(StrEnum):
    """What the import does to a family or a child."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ExistingChild:
    """A child of a family as recorded."""

    child_id: int
    values: Mapping[str, str]
    services: Mapping[str, str | None]
    """Service code → regular weekdays of the family's current enrolments."""


@dataclass(frozen=True)
class ExistingFamily:
    """A family as recorded, with what the last import set on it (None: never imported)."""

    family_id: int
    number: str
    name: str
    sections: Mapping[Section, Mapping[str, str]]
    has_conjoint: bool
    children: tuple[ExistingChild, ...]
    snapshot: Mapping[str, Any] | None = None
    has_accounts: bool = False
    """It has invoices or payments: it is never removed (the accounts need it)."""


@dataclass(frozen=True)
class Change:
    """A value the import sets (old → new); `child` names the child for a child's value."""

    section: Section
    key: str
    old: str
    new: str
    child: str | None = None


@dataclass(frozen=True)
class Conflict:
    """A value changed since the last import that the file would change back."""

    section: Section
    key: str
    current: str
    file: str
    imported: str | None
    overwritten: bool
    child: str | None = None


@dataclass
class ChildPlan:
    """What happens to one child of the file."""

    record: ChildRecord
    action: Action
    child_id: int | None
    changes: list[Change] = field(default_factory=list)
    add_services: dict[str, str | None] = field(default_factory=dict)
    set_weekdays: dict[str, str | None] = field(default_factory=dict)
    end_services: list[str] = field(default_factory=list)
    kept_services: list[str] = field(default_factory=list)
    """Enrolments on record that the file does not name, left as they are."""


@dataclass
class FamilyPlan:
    """What happens to one family of the file."""

    record: FamilyRecord
    action: Action
    family_id: int | None
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    children: list[ChildPlan] = field(default_factory=list)
    create_conjoint: bool = False
    remove_children: list[tuple[int, str]] = field(default_factory=list)
    kept_children: list[tuple[int, str]] = field(default_factory=list)
    """Children on record but not in the file, left as they are (no --prune)."""


@dataclass(frozen=True)
class Removal:
    """A family on record but not in the file: removed with --prune unless it has accounts."""

    family_id: int
    number: str
    name: str
    kept: bool


@dataclass
class ImportPlan:
    """Everything the import would do."""

    families: list[FamilyPlan]
    removals: list[Removal]
    prune: bool
    overwrite: bool

    def count(self, action: Action) -> int:
        """Families created, updated or unchanged."""
        return sum(1 for f in self.families if f.action is action)

    def count_children(self, action: Action) -> int:
        """Children created, updated or unchanged."""
        return sum(1 for f in self.families for c in f.children if c.action is action)

    @property
    def conflicts(self) -> list[tuple[FamilyPlan, Conflict]]:
        """Every conflict, with its family."""
        return [(f, c) for f in self.families for c in f.conflicts]

    @property
    def changes_anything(self) -> bool:
        """Whether applying it would write anything (beyond the snapshots)."""
        return any(f.action is not Action.UNCHANGED for f in self.families) or (
            any(not r.kept for r in self.removals) and self.prune
        )


def plan_import(
    parsed: ParsedFile,
    existing: Mapping[str, ExistingFamily],
    *,
    prune: bool = False,
    overwrite: bool = False,
) -> ImportPlan:
    """Compare a file without errors with the records (see the module doc)."""
    managed = parsed.managed
    plans: list[FamilyPlan] = []
    for record in parsed.families:
        current = existing.get(record.number)
        if current is None:
            plans.append(_new_family(record))
        else:
            plans.append(
                _compare_family(record, current, managed, parsed.has_services, prune, overwrite)
            )
    removals: list[Removal] = []
    in_file = {record.number for record in parsed.families}
    for number, family in sorted(existing.items()):
        if number not in in_file:
            removals.append(
                Removal(family.family_id, number, family.name, kept=family.has_accounts)
            )
    return ImportPlan(plans, removals, prune, overwrite)


def _new_family(record: FamilyRecord) -> FamilyPlan:
    children = [
        ChildPlan(c, Action.CREATE, None, add_services=dict(c.services or {}))
        for c in record.children
    ]
    return FamilyPlan(
        record,
        Action.CREATE,
        None,
        children=children,
        create_conjoint=bool(record.sections[Section.CONJOINT]),
    )


def _decide(
    plan: FamilyPlan,
    section: Section,
    key: str,
    current: str,
    wanted: str,
    imported: str | None,
    overwrite: bool,
    child: str | None = None,
) -> Change | None:
    if wanted == current:
        return None
    if imported is not None and current != imported:
        plan.conflicts.append(Conflict(section, key, current, wanted, imported, overwrite, child))
        if not overwrite:
            return None
    return Change(section, key, current, wanted, child)


def _compare_family(
    record: FamilyRecord,
    current: ExistingFamily,
    managed: Mapping[Section, set[str]],
    has_services: bool,
    prune: bool,
    overwrite: bool,
) -> FamilyPlan:
    plan = FamilyPlan(record, Action.UNCHANGED, current.family_id)
    snapshot = current.snapshot or {}
    for section in (Section.FAMILY, Section.RESPONSABLE, Section.CONJOINT):
        wanted = record.sections[section]
        if section is Section.CONJOINT and not wanted:
            continue  # the file names no conjoint: a recorded one is left as it is
        if section is Section.CONJOINT and not current.has_conjoint:
            plan.create_conjoint = True
        imported_values: Mapping[str, str] = (
            snapshot.get(section.value, {}) if current.snapshot is not None else {}
        )
        for key in sorted(managed[section], key=_field_order):
            value = wanted.get(key, NO if _is_yes_no(section, key) else EMPTY)
            now = current.sections.get(section, {}).get(key, EMPTY)
            change = _decide(
                plan,
                section,
                key,
                now,
                value,
                imported_values.get(key) if current.snapshot is not None else None,
                overwrite,
            )
            if change is not None:
                plan.changes.append(change)
    _compare_children(plan, record, current, managed[Section.CHILD], has_services, prune, overwrite)
    touched = (
        plan.changes
        or plan.create_conjoint
        or plan.remove_children
        or any(c.action is not Action.UNCHANGED for c in plan.children)
    )
    plan.action = Action.UPDATE if touched else Action.UNCHANGED
    return plan


def _compare_children(
    plan: FamilyPlan,
    record: FamilyRecord,
    current: ExistingFamily,
    managed: set[str],
    has_services: bool,
    prune: bool,
    overwrite: bool,
) -> None:
    snapshot_children: Mapping[str, Any] = (current.snapshot or {}).get("children", {})
    by_id = {child.child_id: child for child in current.children}
    matched: set[int] = set()
    for child in record.children:
        found = None
        for child_id_text, shot in snapshot_children.items():
            child_id = int(child_id_text)
            if (
                child_id in by_id
                and child_id not in matched
                and tuple(shot.get("key", ())) == child.key
            ):
                found = by_id[child_id]
                break
        if found is None:
            found = next(
                (
                    c
                    for c in current.children
                    if c.child_id not in matched and child_key(c.values) == child.key
                ),
                None,
            )
        if found is None:
            plan.children.append(
                ChildPlan(child, Action.CREATE, None, add_services=dict(child.services or {}))
            )
            continue
        matched.add(found.child_id)
        shot = snapshot_children.get(str(found.child_id)) if current.snapshot is not None else None
        child_plan = ChildPlan(child, Action.UNCHANGED, found.child_id)
        imported_values: Mapping[str, str] = (shot or {}).get("values", {})
        for key in sorted(managed - {SERVICES_KEY}, key=_field_order):
            value = child.values.get(key, EMPTY)
            now = found.values.get(key, EMPTY)
            change = _decide(
                plan,
                Section.CHILD,
                key,
                now,
                value,
                imported_values.get(key) if shot is not None else None,
                overwrite,
                child.label,
            )
            if change is not None:
                child_plan.changes.append(change)
        if has_services and child.services is not None:
            imported_services: Mapping[str, Any] | None = (
                (shot or {}).get("services") if shot is not None else None
            )
            for code, days in child.services.items():
                if code not in found.services:
                    child_plan.add_services[code] = days
                elif found.services[code] != days and days is not None:
                    child_plan.set_weekdays[code] = days
            for code in found.services:
                if code in child.services:
                    continue
                added_since = imported_services is not None and code not in imported_services
                if added_since and prune:
                    plan.conflicts.append(
                        Conflict(
                            Section.CHILD,
                            SERVICES_KEY,
                            code,
                            "",
                            None,
                            overwrite and prune,
                            child.label,
                        )
                    )
                if prune and (overwrite or not added_since):
                    child_plan.end_services.append(code)
                else:
                    child_plan.kept_services.append(code)
        if (
            child_plan.changes
            or child_plan.add_services
            or child_plan.set_weekdays
            or child_plan.end_services
        ):
            child_plan.action = Action.UPDATE
        plan.children.append(child_plan)
    imported_ids = {int(k) for k in snapshot_children} if current.snapshot is not None else None
    for existing in current.children:
        if existing.child_id in matched:
            continue
        values = existing.values
        label = f"{values.get('first_name', '')} {values.get('last_name', '')}".strip()
        added_since = imported_ids is not None and existing.child_id not in imported_ids
        if added_since and prune:
            plan.conflicts.append(
                Conflict(Section.CHILD, "child", label, "", None, overwrite and prune, label)
            )
        if prune and (overwrite or not added_since):
            plan.remove_children.append((existing.child_id, label))
        else:
            plan.kept_children.append((existing.child_id, label))


def _is_yes_no(section: Section, key: str) -> bool:
    column = next((c for c in COLUMNS if c.section is section and c.key == key), None)
    return column is not None and column.field is not None and column.field.kind is FieldKind.YES_NO


_ORDER = {(c.key): i for i, c in enumerate(COLUMNS)}


def _field_order(key: str) -> int:
    return _ORDER.get(key, len(_ORDER))


def snapshot_of(plan: FamilyPlan, previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """What this import sets on the family, to compare with at the next import.

    What the file no longer names but the import kept (no --prune) stays as the previous
    import set it, so that it is not taken for something added since.
    """
    record = plan.record
    before: Mapping[str, Any] = (previous or {}).get("children", {})
    children: dict[str, Any] = {}
    for child_plan in plan.children:
        if child_plan.child_id is None:
            continue
        services = (
            dict(child_plan.record.services) if child_plan.record.services is not None else None
        )
        earlier = (before.get(str(child_plan.child_id)) or {}).get("services") or {}
        if services is not None:
            services.update(
                {code: earlier[code] for code in child_plan.kept_services if code in earlier}
            )
        children[str(child_plan.child_id)] = {
            "key": list(child_plan.record.key),
            "values": dict(child_plan.record.values),
            "services": services,
        }
    for child_id, _label in plan.kept_children:
        if str(child_id) in before:
            children[str(child_id)] = before[str(child_id)]
    return {
        Section.FAMILY.value: dict(record.sections[Section.FAMILY]),
        Section.RESPONSABLE.value: dict(record.sections[Section.RESPONSABLE]),
        Section.CONJOINT.value: dict(record.sections[Section.CONJOINT]),
        "children": children,
    }


def typed_values(section: Section, values: Mapping[str, str]) -> dict[str, Any]:
    """Stored form values as the record's attributes take them (`forms.to_python`)."""
    result: dict[str, Any] = {}
    for key, stored in values.items():
        column = next((c for c in COLUMNS if c.section is section and c.key == key), None)
        if column is None or column.field is None:
            continue
        result[key] = forms.to_python(column.field, stored)
    return result


def record_values(section: Section, record: object | None) -> dict[str, str]:
    """A record's values for every column of a section, in the stored form."""
    return {
        column.key: forms.from_python(
            column.field, getattr(record, column.key, None) if record is not None else None
        )
        for column in COLUMNS
        if column.section is section and column.field is not None
    }
