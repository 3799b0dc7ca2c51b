"""The forms of the seed portal's data-change requests, as plain data.

A `Form` lists the fields a parent may fill for one kind of request (fiche responsable, informations
CAF, a vaccination…), each with the rule that checks it (`FieldKind`). Dialogues walk a form one
field at a time; the request services store the normalised values (strings, see `normalise`) and
convert them back with `to_python` when staff accept. Labels are untranslated message ids (N_).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.domain import validators
from bot.domain.model import HealthItemKind, Regime, RequestKind
from bot.i18n import N_

YES, NO = "yes", "no"
EMPTY = ""


class FieldKind(StrEnum):
    """How a field is typed and checked."""

    TEXT = "text"
    PHONE = "phone"
    EMAIL = "email"
    POSTAL_CODE = "postal_code"
    IBAN = "iban"
    BIC = "bic"
    CAF_NUMBER = "caf_number"
    BIRTH_DATE = "birth_date"
    PAST_DATE = "past_date"
    ANY_DATE = "any_date"
    COMING_DATE = "coming_date"
    AMOUNT = "amount"
    COUNT = "count"
    YES_NO = "yes_no"
    CHOICE = "choice"

    @property
    def is_date(self) -> bool:
        """Dates are stored ISO and shown dd/mm/yyyy."""
        return self in (
            FieldKind.BIRTH_DATE,
            FieldKind.PAST_DATE,
            FieldKind.ANY_DATE,
            FieldKind.COMING_DATE,
        )

    @property
    def is_button(self) -> bool:
        """Fields answered with buttons rather than typed."""
        return self in (FieldKind.YES_NO, FieldKind.CHOICE)


@dataclass(frozen=True)
class Field:
    """One field of a form: the record's attribute it changes, its label and its rule."""

    key: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    max_length: int = validators.MAX_TEXT_LENGTH
    choices: tuple[tuple[str, str], ...] = ()  # (stored code, N_ label)
    sensitive: bool = False  # health or bank data: never logged
    enum: type[StrEnum] | None = None  # the record's column holds this enum


class FormMode(StrEnum):
    """A change of an existing record, or something new to add."""

    CHANGE = "change"
    NEW = "new"


@dataclass(frozen=True)
class Form:
    """A request form: its kind, what it targets, and its fields."""

    code: str
    kind: RequestKind
    title: str
    fields: tuple[Field, ...]
    mode: FormMode
    needs_child: bool = False
    one_of: tuple[str, ...] = ()  # at least one of these must be filled
    proof_fields: tuple[str, ...] = ()  # changing one of them needs an attached proof
    not_before: tuple[tuple[str, str], ...] = ()  # (later, earlier): a date not before another

    def field(self, key: str) -> Field:
        """The field with this key; KeyError when unknown."""
        for item in self.fields:
            if item.key == key:
                return item
        raise KeyError(key)

    def index(self, key: str) -> int:
        """Position of a field (buttons carry the position, not the key)."""
        return [item.key for item in self.fields].index(key)


# --- Fields shared by several forms --------------------------------------------------------

CIVILITIES = (("Monsieur", N_("Mr")), ("Madame", N_("Mrs")))
SEXES = (("M", N_("Boy")), ("F", N_("Girl")))
REGIMES = (
    (Regime.CAF.value, N_("CAF")),
    (Regime.MSA.value, N_("MSA")),
    (Regime.OTHER.value, N_("Other scheme")),
)


def _guardian_fields() -> tuple[Field, ...]:
    return (
        Field("civility", N_("Civility"), FieldKind.CHOICE, choices=CIVILITIES),
        Field("last_name", N_("Last name"), required=True, max_length=80),
        Field("first_name", N_("First name"), required=True, max_length=80),
        Field("quality", N_("Quality"), max_length=40),
        Field("situation", N_("Situation"), max_length=40),
        Field("address", N_("Address"), max_length=200),
        Field("postal_code", N_("Postal code"), FieldKind.POSTAL_CODE),
        Field("city", N_("City"), max_length=80),
        Field("phone_home", N_("Home phone"), FieldKind.PHONE),
        Field("phone_work", N_("Work phone"), FieldKind.PHONE),
        Field("phone_mobile", N_("Mobile"), FieldKind.PHONE),
        Field("email", N_("Email"), FieldKind.EMAIL, max_length=120),
        Field("profession", N_("Profession"), max_length=80),
        Field("csp", N_("Socio-professional category"), max_length=80),
        Field("employer", N_("Employer"), max_length=120),
        Field("employer_address", N_("Employer's address"), max_length=200),
        Field("sms_consent", N_("SMS authorisation"), FieldKind.YES_NO),
        Field("email_consent", N_("Email authorisation"), FieldKind.YES_NO),
    )


def _child_identity_fields() -> tuple[Field, ...]:
    return (
        Field("last_name", N_("Last name"), required=True, max_length=80),
        Field("first_name", N_("First name"), required=True, max_length=80),
        Field("birth_date", N_("Date of birth"), FieldKind.BIRTH_DATE, required=True),
        Field("sex", N_("Sex"), FieldKind.CHOICE, choices=SEXES),
        Field("school", N_("School"), max_length=120),
        Field("class_name", N_("Class"), max_length=40),
    )


def _health_item_form(kind: HealthItemKind, title: str, label: str) -> Form:
    return Form(
        code=kind.value,
        kind=RequestKind.HEALTH,
        title=title,
        fields=(Field("description", label, required=True, max_length=300, sensitive=True),),
        mode=FormMode.NEW,
        needs_child=True,
    )


# --- The forms -----------------------------------------------------------------------------

RESPONSABLE = Form(
    "responsable", RequestKind.RESPONSABLE, N_("Responsable"), _guardian_fields(), FormMode.CHANGE
)
CONJOINT = Form(
    "conjoint", RequestKind.CONJOINT, N_("Spouse / partner"), _guardian_fields(), FormMode.CHANGE
)
FISCAL = Form(
    "fiscal",
    RequestKind.FISCAL,
    N_("Tax information"),
    (
        Field("regime", N_("Benefits scheme"), FieldKind.CHOICE, choices=REGIMES, enum=Regime),
        Field("organisme_rattachement", N_("Attached to (organisation)"), max_length=80),
    ),
    FormMode.CHANGE,
)
CAF = Form(
    "caf",
    RequestKind.CAF,
    N_("CAF information"),
    (
        Field("caf_number", N_("CAF allocataire number"), FieldKind.CAF_NUMBER),
        Field("caf_children_count", N_("Number of dependent children"), FieldKind.COUNT),
        Field("quotient_familial", N_("Quotient familial"), FieldKind.AMOUNT),
    ),
    FormMode.CHANGE,
    proof_fields=("quotient_familial",),
)
BANK = Form(
    "bank",
    RequestKind.BANK,
    N_("Bank details"),
    (
        Field("bank_name", N_("Bank name"), max_length=80, sensitive=True),
        Field("account_holder", N_("Account holder"), max_length=120, sensitive=True),
        Field("iban", N_("IBAN"), FieldKind.IBAN, sensitive=True),
        Field("bic", N_("BIC"), FieldKind.BIC, sensitive=True),
        Field("direct_debit", N_("Direct debit"), FieldKind.YES_NO),
    ),
    FormMode.CHANGE,
)
ADD_CHILD = Form(
    "add_child", RequestKind.ADD_CHILD, N_("New child"), _child_identity_fields(), FormMode.NEW
)
CHILD_DATA = Form(
    "child_data",
    RequestKind.CHILD_DATA,
    N_("Child's details"),
    _child_identity_fields(),
    FormMode.CHANGE,
    needs_child=True,
)
AUTHORIZATION = Form(
    "authorization",
    RequestKind.AUTHORIZATION,
    N_("Person authorised to pick the child up"),
    (
        Field("last_name", N_("Last name"), required=True, max_length=80),
        Field("first_name", N_("First name"), max_length=80),
        Field("relation", N_("Relationship"), required=True, max_length=60),
        Field("phone", N_("Phone"), FieldKind.PHONE),
        Field("mobile", N_("Mobile"), FieldKind.PHONE),
    ),
    FormMode.NEW,
    needs_child=True,
    one_of=("phone", "mobile"),
)
VACCINATION = Form(
    "vaccination",
    RequestKind.HEALTH,
    N_("Vaccination"),
    (
        Field("name", N_("Vaccine"), required=True, max_length=80, sensitive=True),
        Field(
            "given_on",
            N_("Date of vaccination"),
            FieldKind.PAST_DATE,
            required=True,
            sensitive=True,
        ),
        Field("dose", N_("Dose"), max_length=40, sensitive=True),
        Field("lot", N_("Batch"), max_length=40, sensitive=True),
        Field("booster_on", N_("Booster date"), FieldKind.ANY_DATE, sensitive=True),
        Field("doctor", N_("Doctor"), max_length=120, sensitive=True),
    ),
    FormMode.NEW,
    needs_child=True,
    not_before=(("booster_on", "given_on"),),
)
ALLERGY = _health_item_form(HealthItemKind.ALLERGY, N_("Allergy"), N_("Allergy"))
ILLNESS = _health_item_form(HealthItemKind.ILLNESS, N_("Illness"), N_("Illness"))
CONTRAINDICATION = _health_item_form(
    HealthItemKind.CONTRAINDICATION, N_("Contra-indication"), N_("Contra-indication")
)
PAI = _health_item_form(
    HealthItemKind.PAI, N_("PAI (individual care plan)"), N_("PAI (individual care plan)")
)
GLASSES = Form(
    "glasses",
    RequestKind.HEALTH,
    N_("Glasses"),
    (Field("glasses", N_("Wears glasses"), FieldKind.YES_NO, sensitive=True),),
    FormMode.CHANGE,
    needs_child=True,
)
DOCTOR = Form(
    "doctor",
    RequestKind.HEALTH,
    N_("Family doctor"),
    (
        Field("doctor_name", N_("Doctor"), max_length=120, sensitive=True),
        Field("doctor_phone", N_("Doctor's phone"), FieldKind.PHONE, sensitive=True),
    ),
    FormMode.CHANGE,
    needs_child=True,
)
ENROLMENT = Form(
    "enrolment",
    RequestKind.ENROLMENT,
    N_("Enrolment in a service"),
    (Field("starts_on", N_("From"), FieldKind.COMING_DATE, required=True),),
    FormMode.NEW,
    needs_child=True,
)

FORMS: dict[str, Form] = {
    form.code: form
    for form in (
        RESPONSABLE,
        CONJOINT,
        FISCAL,
        CAF,
        BANK,
        ADD_CHILD,
        CHILD_DATA,
        AUTHORIZATION,
        VACCINATION,
        ALLERGY,
        ILLNESS,
        CONTRAINDICATION,
        PAI,
        GLASSES,
        DOCTOR,
        ENROLMENT,
    )
}
HEALTH_ITEM_FORMS = {kind: FORMS[kind.value] for kind in HealthItemKind}


def get_form(code: str) -> Form | None:
    """The form with this code, if any."""
    return FORMS.get(code)


# --- Values --------------------------------------------------------------------------------


def normalise(field: Field, raw: str, today: dt.date) -> str:
    """Check a typed value and return the string stored in the request (may raise ValidationError)."""
    kind = field.kind
    if kind is FieldKind.TEXT:
        return validators.text(raw, field.max_length)
    if kind is FieldKind.PHONE:
        return validators.phone(raw)
    if kind is FieldKind.EMAIL:
        value = validators.email(raw)
        if len(value) > field.max_length:
            raise validators.ValidationError(validators.Problem.TOO_LONG)
        return value
    if kind is FieldKind.POSTAL_CODE:
        return validators.postal_code(raw)
    if kind is FieldKind.IBAN:
        return validators.iban(raw)
    if kind is FieldKind.BIC:
        return validators.bic(raw)
    if kind is FieldKind.CAF_NUMBER:
        return validators.caf_number(raw)
    if kind is FieldKind.BIRTH_DATE:
        return validators.birth_date(raw, today).isoformat()
    if kind is FieldKind.PAST_DATE:
        return validators.past_date(raw, today).isoformat()
    if kind is FieldKind.ANY_DATE:
        return validators.any_date(raw, today).isoformat()
    if kind is FieldKind.COMING_DATE:
        return validators.coming_date(raw, today).isoformat()
    if kind is FieldKind.AMOUNT:
        return str(validators.amount(raw))
    if kind is FieldKind.COUNT:
        return str(validators.count(raw))
    if kind is FieldKind.YES_NO:
        return validators.choice(raw, (YES, NO))
    return validators.choice(raw, tuple(code for code, _label in field.choices))


def to_python(field: Field, stored: str | None) -> Any:
    """The value to put on the record (None for an emptied optional field)."""
    if stored is None or stored == EMPTY:
        return False if field.kind is FieldKind.YES_NO else None
    if field.kind.is_date:
        return dt.date.fromisoformat(stored)
    if field.kind is FieldKind.AMOUNT:
        return Decimal(stored)
    if field.kind is FieldKind.COUNT:
        return int(stored)
    if field.kind is FieldKind.YES_NO:
        return stored == YES
    if field.enum is not None:
        return field.enum(stored)
    return stored


def from_python(field: Field, value: Any) -> str:
    """A record's value as the string a request stores (EMPTY when unset)."""
    if value is None:
        return NO if field.kind is FieldKind.YES_NO else EMPTY
    if field.kind is FieldKind.YES_NO:
        return YES if value else NO
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def current_values(form: Form, record: object | None) -> dict[str, str]:
    """The values of a record for every field of a form (EMPTY for a missing record)."""
    return {
        field.key: from_python(
            field, getattr(record, field.key, None) if record is not None else None
        )
        for field in form.fields
    }


def changed_values(
    form: Form, current: Mapping[str, str], draft: Mapping[str, str]
) -> dict[str, str]:
    """The fields whose draft value differs from the current one, in the form's order."""
    return {
        field.key: draft[field.key]
        for field in form.fields
        if field.key in draft and draft[field.key] != current.get(field.key, EMPTY)
    }


def out_of_order(form: Form, values: Mapping[str, str]) -> list[Field]:
    """Date fields earlier than the date they cannot precede (a booster before its vaccination)."""
    wrong = []
    for later, earlier in form.not_before:
        first, second = values.get(earlier), values.get(later)
        if first and second and dt.date.fromisoformat(second) < dt.date.fromisoformat(first):
            wrong.append(form.field(later))
    return wrong


def missing_fields(form: Form, values: Mapping[str, str]) -> list[Field]:
    """Required fields left empty (and the first of a `one_of` group when all are empty)."""
    missing = [field for field in form.fields if field.required and not values.get(field.key)]
    if form.one_of and not any(values.get(key) for key in form.one_of):
        missing.append(form.field(form.one_of[0]))
    return missing


def needs_proof(form: Form, changes: Mapping[str, str]) -> bool:
    """Whether these changes must come with an attached proof (a new quotient familial)."""
    return any(key in changes for key in form.proof_fields)


def checked_values(form: Form, values: Mapping[str, str], today: dt.date) -> dict[str, str]:
    """Re-check stored draft values (they come back from the user's session); unknown keys dropped."""
    result: dict[str, str] = {}
    for field in form.fields:
        if field.key not in values:
            continue
        raw = values[field.key]
        if raw == EMPTY:  # an emptied field; a required one is reported by `missing_fields`
            result[field.key] = EMPTY
            continue
        result[field.key] = normalise(field, raw, today)
    return result
