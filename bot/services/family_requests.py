"""Data-change requests of Mon compte and Mes enfants: asked by a parent, decided by staff.

The parent's use cases (the account's blocks, opening a form, sending it, asking for a removal,
the list of requests) each own their transaction (`family_use_case`). A button naming a child
or a person that is not the family's is refused with `NotAllowed` (audited). A request sent
reaches staff through `bot.services.requests.submit_request`, in the request's transaction.

One `RequestType` per kind is registered with `bot.services.requests` at import: it describes the
request for the staff card (current value beside the requested one) and, when staff accept,
applies it to the records in the decision's transaction. Refusing changes nothing: these
requests create no provisional state.

A request's payload: {"form": code, "values": {field: stored value}, "previous": {field: value
when asked}} plus, for some kinds, "service_id" (inscription) or "person_id" (removal).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain import forms
from bot.domain.forms import Form, FormMode
from bot.domain.model import GuardianRole, HealthItemKind, RequestKind, RequestStatus
from bot.domain.validators import ValidationError
from bot.family_texts import display_value
from bot.i18n import N_
from bot.services.children import (
    AuthorizationsPage,
    PersonNotListed,
    authorizations,
    child_of_family,
    child_sheet,
    enrolable_services,
    refuse_foreign,
)
from bot.services.home import FamilyRecord, family_record
from bot.services.request_history import HistoryItem, pending_items, request_history
from bot.services.requests import (
    FieldChange,
    RequestDescription,
    register_request_type,
    submit_request,
)
from bot.services.use_case import NotAllowed, family_use_case
from storage.db import Database, UnitOfWork
from storage.models import (
    AuthorizedPerson,
    Child,
    Enrolment,
    FamilyChild,
    Guardian,
    HealthItem,
    Request,
    Vaccination,
)

logger = logging.getLogger(__name__)

REQUEST_TITLES: dict[str, str] = {
    "responsable": N_("Change of the responsable's details"),
    "conjoint": N_("Change of the spouse's details"),
    "fiscal": N_("Change of the tax information"),
    "caf": N_("Change of the CAF information"),
    "bank": N_("Change of the bank details"),
    "add_child": N_("New child to add: {child}"),
    "child_data": N_("Change of {child}'s details"),
    "authorization": N_("New person authorised to pick up {child}"),
    "vaccination": N_("Health data of {child}: new vaccination"),
    "allergy": N_("Health data of {child}: allergy"),
    "illness": N_("Health data of {child}: illness"),
    "contraindication": N_("Health data of {child}: contra-indication"),
    "pai": N_("Health data of {child}: PAI"),
    "glasses": N_("Health data of {child}: glasses"),
    "doctor": N_("Health data of {child}: family doctor"),
    "enrolment": N_("Enrolment of {child} in {service}"),
}
REMOVAL_TITLE = N_("Removal of a person authorised to pick up {child}")
LABEL_SERVICE = N_("Service")
LABEL_PERSON = N_("Person")
LABEL_RELATION = N_("Relationship")
LABEL_PHONES = N_("Phones")


class SubmitOutcome(StrEnum):
    """What became of a parent's request."""

    SUBMITTED = "submitted"
    NOTHING_CHANGED = "nothing_changed"
    MISSING_FIELDS = "missing_fields"
    PROOF_NEEDED = "proof_needed"
    INVALID = "invalid"
    NOT_AVAILABLE = "not_available"
    ALREADY_PENDING = "already_pending"


@dataclass(frozen=True)
class SubmitResult:
    """Outcome of a submission, with the request when one was recorded."""

    outcome: SubmitOutcome
    request: Request | None = None
    missing: tuple[str, ...] = ()
    invalid_field: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A proof sent with the request (Telegram file id and photo/document)."""

    file_id: str
    kind: str


@dataclass(frozen=True)
class RemovalResult:
    """Outcome of asking for a removal, and Les autorisations as they now stand."""

    outcome: SubmitOutcome
    page: AuthorizationsPage


@dataclass(frozen=True)
class AccountBlock:
    """One block of the fiche famille: its form, the current values and the changes asked."""

    form: Form
    current: dict[str, str]
    pending: list[HistoryItem]
    recorded: bool
    """False for the spouse's block when no spouse or partner is recorded yet."""


@dataclass(frozen=True)
class OpenedForm:
    """A form about to be filled: what it is about and the record's current values."""

    form: Form
    current: dict[str, str]
    child_id: int | None = None
    child_name: str = ""
    service_id: int | None = None
    service_name: str = ""


class ServiceNotOffered(NotAllowed):
    """The child is already enrolled in the service, or asked, or it is closed."""


# --- Mon compte and the list of requests ---------------------------------------------------


async def account_overview(db: Database, telegram_user_id: int) -> FamilyRecord:
    """The fiche famille of the account's family (Mon compte)."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        return await family_record(uow, family_id)


async def account_block(db: Database, telegram_user_id: int, form: Form) -> AccountBlock:
    """One block of the fiche famille (a CHANGE form of the family's record)."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        return AccountBlock(
            form=form,
            current=await current_values(uow, family_id, form),
            pending=await pending_items(uow, family_id, (form.kind,)),
            recorded=form.kind != RequestKind.CONJOINT
            or await _target(uow, family_id, form, None) is not None,
        )


async def request_list(
    db: Database,
    telegram_user_id: int,
    *,
    since: dt.datetime,
    kinds: Collection[RequestKind] | None = None,
) -> list[HistoryItem]:
    """Liste des demandes: the family's requests since `since`, and those still pending."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        return await request_history(uow, family_id, since=since, kinds=kinds)


# --- Reading the records a form targets ----------------------------------------------------


async def _target(uow: UnitOfWork, family_id: int, form: Form, child_id: int | None) -> Any:
    """The record a CHANGE form edits (None when the conjoint is not recorded yet)."""
    if form.kind in (RequestKind.RESPONSABLE, RequestKind.CONJOINT):
        family = await uow.repos.families.get(family_id)
        role = (
            GuardianRole.RESPONSABLE
            if form.kind == RequestKind.RESPONSABLE
            else GuardianRole.CONJOINT
        )
        return family.guardian(role) if family else None
    if form.kind in (RequestKind.FISCAL, RequestKind.CAF, RequestKind.BANK):
        return await uow.repos.families.get(family_id)
    if form.needs_child and child_id is not None:
        return await uow.repos.children.of_family(family_id, child_id)
    return None


async def current_values(
    uow: UnitOfWork, family_id: int, form: Form, child_id: int | None = None
) -> dict[str, str]:
    """The record's current values for a form (all EMPTY for a NEW form)."""
    if form.mode is FormMode.NEW:
        return {f.key: forms.EMPTY for f in form.fields}
    return forms.current_values(form, await _target(uow, family_id, form, child_id))


# --- Opening a form ------------------------------------------------------------------------


async def open_form(
    db: Database, telegram_user_id: int, form_code: str, *, child_id: int | None, now: dt.datetime
) -> OpenedForm:
    """A form opened from its button: a child's form checks the child (an enrolment is
    opened with `open_enrolment`)."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        form = forms.get_form(form_code)
        if form is None or form.kind == RequestKind.ENROLMENT:
            raise NotAllowed()
        if not form.needs_child:
            return OpenedForm(form, await current_values(uow, family_id, form))
        child = await child_of_family(uow, family_id, child_id, actor=telegram_user_id, now=now)
        return OpenedForm(
            form, await current_values(uow, family_id, form, child.id), child.id, child.first_name
        )


async def open_enrolment(
    db: Database,
    telegram_user_id: int,
    child_id: int | None,
    service_id: int | None,
    *,
    now: dt.datetime,
    today: dt.date,
) -> OpenedForm:
    """The enrolment form of one of the family's children in a service it may still ask for."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        child = await child_of_family(uow, family_id, child_id, actor=telegram_user_id, now=now)
        sheet = await child_sheet(uow, family_id, child)
        service = next(
            (s for s in await enrolable_services(uow, sheet, today) if s.id == service_id), None
        )
        if service is None:
            raise ServiceNotOffered()
        current = await current_values(uow, family_id, forms.ENROLMENT, child.id)
        return OpenedForm(
            forms.ENROLMENT, current, child.id, child.first_name, service.id, service.name
        )


# --- Submitting ----------------------------------------------------------------------------


async def submit_form(
    db: Database,
    telegram_user_id: int,
    *,
    form_code: str,
    values: Mapping[str, str],
    now: dt.datetime,
    today: dt.date,
    child_id: int | None = None,
    service_id: int | None = None,
    attachment: Attachment | None = None,
    idempotency_key: str | None = None,
) -> SubmitResult:
    """Record a pending request from a filled form, after checking it all again.

    CHANGE forms keep only the changed fields; a new quotient familial needs `attachment`. A
    child that is not the family's is refused (`ChildNotInFamily`, audited); the same
    `idempotency_key` twice is one request.
    """
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        result = await _record_form(
            uow,
            family_id=family_id,
            user_id=telegram_user_id,
            form_code=form_code,
            values=values,
            now=now,
            today=today,
            child_id=child_id,
            service_id=service_id,
            attachment=attachment,
            idempotency_key=idempotency_key,
        )
    if result.request is not None:
        logger.info(
            "request %s (%s) submitted by family %s",
            result.request.id,
            result.request.kind.value,
            family_id,
        )
    return result


async def _record_form(
    uow: UnitOfWork,
    *,
    family_id: int,
    user_id: int,
    form_code: str,
    values: Mapping[str, str],
    now: dt.datetime,
    today: dt.date,
    child_id: int | None = None,
    service_id: int | None = None,
    attachment: Attachment | None = None,
    idempotency_key: str | None = None,
) -> SubmitResult:
    form = forms.get_form(form_code)
    if form is None:
        return SubmitResult(SubmitOutcome.INVALID)
    if idempotency_key is not None:
        existing = await uow.repos.requests.by_idempotency_key(idempotency_key)
        if existing is not None:
            return SubmitResult(SubmitOutcome.SUBMITTED, existing)
    child: Child | None = None
    if form.needs_child:
        child = await child_of_family(uow, family_id, child_id, actor=user_id, now=now)
    current = await current_values(uow, family_id, form, child_id)
    wanted = {key: value for key, value in values.items() if key in {f.key for f in form.fields}}
    changed = forms.changed_values(form, current, wanted)
    try:
        changed = forms.checked_values(form, changed, today)
    except ValidationError:
        bad = next(key for key in changed if not _valid(form, key, changed[key], today))
        return SubmitResult(SubmitOutcome.INVALID, invalid_field=bad)
    if form.mode is FormMode.CHANGE and not changed:
        return SubmitResult(SubmitOutcome.NOTHING_CHANGED)
    merged = {**current, **changed}
    missing = forms.missing_fields(form, merged)
    if missing:
        return SubmitResult(SubmitOutcome.MISSING_FIELDS, missing=tuple(f.key for f in missing))
    wrong = forms.out_of_order(form, merged)
    if wrong:
        return SubmitResult(SubmitOutcome.INVALID, invalid_field=wrong[0].key)
    if forms.needs_proof(form, changed) and attachment is None:
        return SubmitResult(SubmitOutcome.PROOF_NEEDED)
    payload: dict[str, Any] = {"form": form.code, "values": changed}
    if form.mode is FormMode.CHANGE:
        payload["previous"] = {key: current.get(key, forms.EMPTY) for key in changed}
    if form.kind == RequestKind.ENROLMENT:
        service = await uow.repos.children.service(service_id) if service_id else None
        if service is None or not service.active:
            return SubmitResult(SubmitOutcome.NOT_AVAILABLE)
        if await _pending_about(
            uow, family_id, RequestKind.ENROLMENT, child_id, "service_id", service.id
        ):
            return SubmitResult(SubmitOutcome.ALREADY_PENDING)
        payload["service_id"] = service.id
        payload["service"] = service.name
    if child is not None:
        payload["child"] = child.first_name
    elif form.kind == RequestKind.ADD_CHILD:
        payload["child"] = changed.get("first_name", "")
    request = await submit_request(
        uow,
        family_id=family_id,
        kind=form.kind,
        payload=payload,
        created_by=user_id,
        now=now,
        child_id=child.id if child else None,
        attachment_file_id=attachment.file_id if attachment else None,
        attachment_kind=attachment.kind if attachment else None,
        idempotency_key=idempotency_key,
    )
    return SubmitResult(SubmitOutcome.SUBMITTED, request)


def _valid(form: Form, key: str, value: str, today: dt.date) -> bool:
    try:
        forms.checked_values(form, {key: value}, today)
    except ValidationError:
        return False
    return True


async def _pending_about(
    uow: UnitOfWork, family_id: int, kind: RequestKind, child_id: int | None, key: str, value: int
) -> bool:
    for request in await uow.repos.requests.pending_of_family(family_id):
        if (
            request.kind == kind
            and request.child_id == child_id
            and request.payload.get(key) == value
        ):
            return True
    return False


async def request_removal(
    db: Database,
    telegram_user_id: int,
    *,
    child_id: int | None,
    person_id: int | None,
    now: dt.datetime,
) -> RemovalResult:
    """Ask staff to remove an authorised person (asking twice is one request); returns Les
    autorisations as they now stand. A child or person not the family's: `NotAllowed`, audited."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        child = await child_of_family(uow, family_id, child_id, actor=telegram_user_id, now=now)
        person = (
            await uow.repos.children.authorized_person(child.id, person_id) if person_id else None
        )
        if person is None:  # removed meanwhile, or someone else's: audited either way
            await refuse_foreign(
                uow, family_id, f"authorized_person:{person_id}", actor=telegram_user_id, now=now
            )
            raise PersonNotListed()
        outcome = await _ask_removal(uow, family_id, telegram_user_id, child, person, now)
        page = await authorizations(uow, family_id, await child_sheet(uow, family_id, child))
    return RemovalResult(outcome, page)


async def _ask_removal(
    uow: UnitOfWork,
    family_id: int,
    user_id: int,
    child: Child,
    person: AuthorizedPerson,
    now: dt.datetime,
) -> SubmitOutcome:
    if await _pending_about(
        uow, family_id, RequestKind.AUTHORIZATION_REMOVAL, child.id, "person_id", person.id
    ):
        return SubmitOutcome.ALREADY_PENDING
    payload = {
        "person_id": person.id,
        "person": _person_name(person),
        "relation": person.relation or "",
        "phones": _person_phones(person),
        "child": child.first_name,
    }
    request = await submit_request(
        uow,
        family_id=family_id,
        kind=RequestKind.AUTHORIZATION_REMOVAL,
        payload=payload,
        created_by=user_id,
        now=now,
        child_id=child.id,
    )
    logger.info("request %s (%s) submitted by family %s", request.id, request.kind.value, family_id)
    return SubmitOutcome.SUBMITTED


def _person_name(person: AuthorizedPerson) -> str:
    return " ".join(part for part in (person.last_name, person.first_name) if part)


def _person_phones(person: AuthorizedPerson) -> str:
    return ", ".join(part for part in (person.phone, person.mobile) if part)


# --- The request types ---------------------------------------------------------------------


def _form_of(request: Request) -> Form | None:
    return forms.get_form(str(request.payload.get("form", "")))


def _title_args(request: Request) -> dict[str, str]:
    payload = request.payload
    return {"child": str(payload.get("child", "")), "service": str(payload.get("service", ""))}


class FormRequestType:
    """A request made with a form: change a record, or add a row (child, person, vaccination…)."""

    def __init__(self, kind: RequestKind) -> None:
        self.kind = kind

    async def describe(self, uow: UnitOfWork, request: Request) -> RequestDescription:
        """Each requested field, beside its current value (its value when asked, once decided)."""
        form = _form_of(request)
        if form is None:
            return RequestDescription(title=self.kind.value)
        values: dict[str, str] = dict(request.payload.get("values", {}))
        current: dict[str, str] | None = None
        if form.mode is FormMode.CHANGE:
            if request.status == RequestStatus.PENDING:
                current = await current_values(uow, request.family_id, form, request.child_id)
            else:
                current = dict(request.payload.get("previous", {}))
        changes: list[FieldChange] = []
        if form.kind == RequestKind.ENROLMENT:
            changes.append(FieldChange(LABEL_SERVICE, str(request.payload.get("service", ""))))
        for item in form.fields:
            if item.key not in values:
                continue
            changes.append(
                FieldChange(
                    label=item.label,
                    requested=display_value(item, values[item.key]),
                    current=display_value(item, current.get(item.key), masked=True)
                    if current is not None
                    else None,
                )
            )
        return RequestDescription(
            title=REQUEST_TITLES.get(form.code, form.title),
            changes=tuple(changes),
            title_args=_title_args(request),
        )

    async def accept(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """Apply the requested values to the records."""
        form = _form_of(request)
        if form is None:
            return
        values: dict[str, str] = dict(request.payload.get("values", {}))
        typed = {f.key: forms.to_python(f, values[f.key]) for f in form.fields if f.key in values}
        if form.mode is FormMode.CHANGE:
            await self._apply_change(uow, request, form, typed)
        else:
            await self._add(uow, request, form, typed)

    async def refuse(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """Nothing was changed while the request waited: nothing to undo."""

    async def _apply_change(
        self, uow: UnitOfWork, request: Request, form: Form, typed: dict[str, Any]
    ) -> None:
        target = await _target(uow, request.family_id, form, request.child_id)
        if target is None and form.kind == RequestKind.CONJOINT:
            target = Guardian(
                family_id=request.family_id, role=GuardianRole.CONJOINT, last_name="", first_name=""
            )
            uow.repos.children.add(target)
        if target is None:
            return
        for key, value in typed.items():
            setattr(target, key, value)

    async def _add(
        self, uow: UnitOfWork, request: Request, form: Form, typed: dict[str, Any]
    ) -> None:
        repo = uow.repos.children
        if form.kind == RequestKind.ADD_CHILD:
            child = Child(**typed)
            repo.add(child)
            await repo.flush()
            repo.add(FamilyChild(family_id=request.family_id, child_id=child.id))
            request.child_id = child.id
            return
        if (
            request.child_id is None
            or await repo.of_family(request.family_id, request.child_id) is None
        ):
            return
        if form.kind == RequestKind.AUTHORIZATION:
            repo.add(AuthorizedPerson(child_id=request.child_id, **typed))
        elif form.code == forms.VACCINATION.code:
            repo.add(Vaccination(child_id=request.child_id, **typed))
        elif form.code in {kind.value for kind in HealthItemKind}:
            repo.add(
                HealthItem(
                    child_id=request.child_id,
                    kind=HealthItemKind(form.code),
                    description=typed["description"],
                )
            )
        elif form.kind == RequestKind.ENROLMENT:
            service_id = int(request.payload.get("service_id", 0))
            existing = {
                (e.service_id, e.starts_on)
                for e in await repo.enrolments(request.family_id, request.child_id)
            }
            if service_id and (service_id, typed["starts_on"]) not in existing:
                repo.add(
                    Enrolment(
                        child_id=request.child_id,
                        service_id=service_id,
                        family_id=request.family_id,
                        starts_on=typed["starts_on"],
                    )
                )


class AuthorizationRemovalType:
    """Removing a person from "Les autorisations"."""

    kind = RequestKind.AUTHORIZATION_REMOVAL

    async def describe(self, uow: UnitOfWork, request: Request) -> RequestDescription:
        """The person to remove, as recorded when asked."""
        payload = request.payload
        changes = (
            FieldChange(LABEL_PERSON, str(payload.get("person", ""))),
            FieldChange(LABEL_RELATION, str(payload.get("relation", "")) or "—"),
            FieldChange(LABEL_PHONES, str(payload.get("phones", "")) or "—"),
        )
        return RequestDescription(
            title=REMOVAL_TITLE, changes=changes, title_args=_title_args(request)
        )

    async def accept(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """Delete the person (already gone: nothing to do)."""
        if request.child_id is None:
            return
        person = await uow.repos.children.authorized_person(
            request.child_id, int(request.payload.get("person_id", 0))
        )
        if person is not None:
            await uow.repos.children.delete(person)

    async def refuse(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """The person stays."""


FORM_KINDS = (
    RequestKind.RESPONSABLE,
    RequestKind.CONJOINT,
    RequestKind.FISCAL,
    RequestKind.CAF,
    RequestKind.BANK,
    RequestKind.ADD_CHILD,
    RequestKind.CHILD_DATA,
    RequestKind.AUTHORIZATION,
    RequestKind.HEALTH,
    RequestKind.ENROLMENT,
)


def register() -> None:
    """Plug every kind of this module into the generic request mechanism."""
    for kind in FORM_KINDS:
        register_request_type(FormRequestType(kind))
    register_request_type(AuthorizationRemovalType())


register()

__all__ = [
    "AccountBlock",
    "Attachment",
    "AuthorizationRemovalType",
    "FormRequestType",
    "OpenedForm",
    "RemovalResult",
    "ServiceNotOffered",
    "SubmitOutcome",
    "SubmitResult",
    "account_block",
    "account_overview",
    "current_values",
    "open_enrolment",
    "open_form",
    "request_list",
    "request_removal",
    "submit_form",
]
