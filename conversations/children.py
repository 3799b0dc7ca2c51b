"""Mes enfants: the list, the fiche enfant, Les autorisations, Données sanitaires, inscriptions.

Every button names a child by id: it is checked to be one of the tapping parent's family
(`owned_child`), and a forged one is refused and audited. Changes go through the forms of
`conversations.forms` and become requests; removals of authorised persons too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot import callbacks
from bot.domain import forms
from bot.domain.model import HealthItemKind, RequestKind
from bot.family_texts import HEALTH_ITEM_LABELS, NOTHING, yes_no
from bot.i18n import N_, _, format_day, format_short_date, ngettext
from bot.runtime import get_runtime
from bot.services import family_requests
from bot.services.children import (
    ChildSheet,
    child_sheet,
    current_enrolments,
    enrolable_services,
    owned_child,
    refuse_foreign,
)
from bot.services.family_requests import SubmitOutcome
from bot.services.home import family_record
from bot.services.request_history import HistoryItem, pending_items
from conversations.common import TAB_CHILDREN, Context, escape, linked_family, show
from conversations.forms import State, open_form, post_card, step
from conversations.requests_list import render_request_line
from storage.models import AuthorizedPerson, Child

SEX_LABELS = {"M": N_("Boy"), "F": N_("Girl")}


def age_on(birth: dt.date, today: dt.date) -> int:
    """Age in whole years."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _home_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))


def _child_button(child: Child, label: str | None = None) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label or _("◀ {name}").format(name=child.first_name), callback_data=callbacks.build(callbacks.CHILD, child.id)
    )


async def _refuse_child(update: Update) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(_("This child is not in your family."), show_alert=True)


async def _sheet(update: Update, context: Context, child_id: int | None) -> tuple[int, ChildSheet] | None:
    """The family and the child's sheet, or None after refusing (and auditing) a foreign child."""
    user = update.effective_user
    family_id = await linked_family(update, context)
    if family_id is None or user is None:
        return None
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        child = await owned_child(uow, family_id, child_id, actor=user.id, now=runtime.now())
        if child is None:
            await uow.commit()
            await _refuse_child(update)
            return None
        sheet = await child_sheet(uow, family_id, child)
    return family_id, sheet


async def _tapped_sheet(update: Update, context: Context) -> tuple[Any, callbacks.Callback, int, ChildSheet] | None:
    """The tapped button, its data, the family, and the sheet of the child its first argument
    names (refused and audited when the child is not the family's)."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None:
        return None
    found = await _sheet(update, context, parsed.int_arg(0))
    if found is None:
        return None
    return query, parsed, found[0], found[1]


# --- The list and the fiche ----------------------------------------------------------------


async def show_children(update: Update, context: Context) -> State | None:
    """The Mes enfants tab: each child with school and class, and "Ajouter un enfant"."""
    query = update.callback_query
    family_id = await linked_family(update, context)
    if family_id is None:
        return None
    if query is not None:
        await query.answer()
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        record = await family_record(uow, family_id)
        pending = await pending_items(uow, family_id, (RequestKind.ADD_CHILD,))
    lines = [_("👧 <b>My children</b>")]
    if not record.children:
        lines += ["", _("No child is recorded for your family.")]
    for child in record.children:
        born = format_short_date(child.birth_date) if child.birth_date else NOTHING
        lines += [
            "",
            f"<b>{escape(child.first_name)} {escape(child.last_name)}</b>",
            _("Born on {date}").format(date=born),
            _("School: {school} — class {class_name}").format(
                school=escape(child.school or NOTHING), class_name=escape(child.class_name or NOTHING)
            ),
        ]
    if pending:
        lines += ["", _("<b>Children to add, not yet processed</b>")]
        lines += [render_request_line(item, runtime.settings.tz, with_decision=False) for item in pending]
    lines += ["", _("Tap a child to see their record.")]
    rows = [[_child_button(child, f"👧 {child.first_name}")] for child in record.children]
    rows.append(
        [InlineKeyboardButton(_("➕ Add a child"), callback_data=callbacks.build(callbacks.FORM_START, forms.ADD_CHILD.code, 0))]
    )
    rows.append([_home_button()])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))
    return None


async def show_child(update: Update, context: Context) -> State | None:
    """The fiche enfant: identity, school and class, responsable, inscriptions."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None:
        return None
    if parsed.arg(0) == "0":
        return await show_children(update, context)
    found = await _sheet(update, context, parsed.int_arg(0))
    if found is None:
        return None
    await query.answer()
    runtime = get_runtime(context)
    _family_id, sheet = found
    await show(update, render_child(sheet, runtime.today()), child_keyboard(sheet.child, runtime.today()))
    return None


def render_child(sheet: ChildSheet, today: dt.date) -> str:
    """The text of the fiche enfant."""
    child = sheet.child
    lines = [f"👧 <b>{escape(child.first_name)} {escape(child.last_name)}</b>"]
    if child.identifier:
        lines.append(_("Identifier: {identifier}").format(identifier=escape(child.identifier)))
    if child.birth_date:
        years = age_on(child.birth_date, today)
        lines.append(
            _("Born on {date} ({age})").format(
                date=format_day(child.birth_date),
                age=ngettext("{count} year old", "{count} years old", years).format(count=years),
            )
        )
    if child.sex in SEX_LABELS:
        lines.append(_("Sex: {sex}").format(sex=_(SEX_LABELS[child.sex])))
    lines.append(
        _("School: {school} — class {class_name}").format(
            school=escape(child.school or NOTHING), class_name=escape(child.class_name or NOTHING)
        )
    )
    lines.append(
        _("Responsable: {name} — family number {number}").format(
            name=escape(sheet.responsable_name or NOTHING), number=escape(sheet.family_number)
        )
    )
    lines += ["", _("<b>Current enrolments</b>")]
    enrolments = current_enrolments(sheet, today)
    if not enrolments:
        lines.append(_("None."))
    for enrolment in enrolments:
        lines.append(
            _("• {service}, from {date}").format(
                service=escape(enrolment.service.name), date=format_short_date(enrolment.starts_on)
            )
        )
    if sheet.pending:
        count = len(sheet.pending)
        lines += [
            "",
            ngettext(
                "⏳ {count} request about {name} is waiting for the structure.",
                "⏳ {count} requests about {name} are waiting for the structure.",
                count,
            ).format(count=count, name=escape(child.first_name)),
        ]
    return "\n".join(lines)


def child_keyboard(child: Child, today: dt.date) -> InlineKeyboardMarkup:
    """What can be done from the fiche enfant."""
    rows = [
        [
            InlineKeyboardButton(_("🛡 Authorisations"), callback_data=callbacks.build(callbacks.CHILD_AUTHORIZATIONS, child.id)),
            InlineKeyboardButton(_("🩺 Health data"), callback_data=callbacks.build(callbacks.CHILD_HEALTH, child.id)),
        ],
        [
            InlineKeyboardButton(
                _("✏️ Ask for a change"), callback_data=callbacks.build(callbacks.FORM_START, forms.CHILD_DATA.code, child.id)
            ),
            InlineKeyboardButton(_("📝 Enrol in a service"), callback_data=callbacks.build(callbacks.CHILD_ENROL, child.id)),
        ],
        [InlineKeyboardButton(_("📄 Registration form (PDF)"), callback_data=callbacks.build(callbacks.REGISTRATION_FORM, child.id))],
    ]
    extra = []
    planning = getattr(callbacks, "PLANNING_MONTH", None)
    if planning in callbacks.ACTIONS:
        extra.append(
            InlineKeyboardButton(_("📅 Planning"), callback_data=callbacks.build(planning, child.id, f"{today.year:04d}{today.month:02d}"))
        )
    tariffs = getattr(callbacks, "TARIFFS", None)
    if tariffs in callbacks.ACTIONS:
        extra.append(InlineKeyboardButton(_("💶 Current tariffs"), callback_data=callbacks.build(tariffs)))
    if extra:
        rows.append(extra)
    rows.append(
        [
            InlineKeyboardButton(_("◀ My children"), callback_data=callbacks.build(callbacks.CHILD, 0)),
            _home_button(),
        ]
    )
    return InlineKeyboardMarkup(rows)


# --- Les autorisations ---------------------------------------------------------------------


def _person(person: AuthorizedPerson) -> str:
    name = " ".join(part for part in (person.last_name, person.first_name) if part)
    phones = ", ".join(part for part in (person.phone, person.mobile) if part)
    return " — ".join(escape(part) for part in (name, person.relation or "", phones) if part)


async def show_authorizations(update: Update, context: Context) -> State | None:
    """Les autorisations: who may pick the child up, with the additions and removals asked."""
    tapped = await _tapped_sheet(update, context)
    if tapped is None:
        return None
    query, _parsed, family_id, sheet = tapped
    await query.answer()
    await _show_authorizations(update, context, family_id, sheet)
    return None


async def _show_authorizations(update: Update, context: Context, family_id: int, sheet: ChildSheet, notice: str = "") -> None:
    runtime = get_runtime(context)
    tz = runtime.settings.tz
    async with runtime.database.unit_of_work() as uow:
        additions = await pending_items(uow, family_id, (RequestKind.AUTHORIZATION,), child_id=sheet.child.id)
        removals = await pending_items(uow, family_id, (RequestKind.AUTHORIZATION_REMOVAL,), child_id=sheet.child.id)
    child = sheet.child
    lines = [_("🛡 <b>Authorisations — {name}</b>").format(name=escape(child.first_name))]
    if notice:
        lines += ["", notice]
    lines += ["", _("<b>Persons authorised to pick the child up</b>")]
    if not sheet.authorized_persons:
        lines.append(_("Nobody is recorded yet."))
    lines += [f"• {_person(person)}" for person in sheet.authorized_persons]
    if additions:
        lines += ["", _("<b>Additions asked, not yet processed</b>")]
        lines += [render_request_line(item, tz, with_decision=False) for item in additions]
    if removals:
        lines += ["", _("<b>Removals asked, not yet processed</b>")]
        lines += [render_request_line(item, tz, with_decision=False) for item in removals]
    asked = {int(item.request.payload.get("person_id", 0)) for item in removals}
    removable = [p for p in sheet.authorized_persons if p.id not in asked]
    if removable:
        lines += ["", _("Tap 🗑 to ask for the removal of an authorisation.")]
    rows = [
        [
            InlineKeyboardButton(
                _("🗑 {name}").format(name=" ".join(part for part in (person.last_name, person.first_name) if part)),
                callback_data=callbacks.build(callbacks.CHILD_REMOVAL, child.id, person.id),
            )
        ]
        for person in removable
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("➕ New person"), callback_data=callbacks.build(callbacks.FORM_START, forms.AUTHORIZATION.code, child.id)
            )
        ]
    )
    rows.append([_child_button(child), _home_button()])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


async def ask_removal(update: Update, context: Context) -> State | None:
    """🗑: confirm before asking for the removal."""
    tapped = await _tapped_sheet(update, context)
    if tapped is None:
        return None
    query, parsed, family_id, sheet = tapped
    person = next((p for p in sheet.authorized_persons if p.id == parsed.int_arg(1)), None)
    if person is None:
        await _refuse_person(update, context, family_id, parsed.arg(1))
        return None
    await query.answer()
    child = sheet.child
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("Yes, ask for the removal"), callback_data=callbacks.build(callbacks.CHILD_REMOVAL_CONFIRM, child.id, person.id)
                ),
                InlineKeyboardButton(_("No"), callback_data=callbacks.build(callbacks.CHILD_AUTHORIZATIONS, child.id)),
            ]
        ]
    )
    await show(
        update,
        _("Ask the structure to remove the authorisation of {person} to pick up {name}?").format(
            person=_person(person), name=escape(child.first_name)
        ),
        keyboard,
    )
    return None


async def _refuse_person(update: Update, context: Context, family_id: int, person_arg: str) -> None:
    """A person id that is not one of this child's: refused and audited."""
    user = update.effective_user
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        await refuse_foreign(
            uow, family_id, f"authorized_person:{person_arg}", actor=user.id if user else 0, now=runtime.now()
        )
        await uow.commit()
    if update.callback_query is not None:
        await update.callback_query.answer(_("This person is no longer on the list."), show_alert=True)


async def confirm_removal(update: Update, context: Context) -> State | None:
    """Yes: record the removal request (once, even when tapped twice)."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    user = update.effective_user
    if query is None or parsed is None or user is None:
        return None
    family_id = await linked_family(update, context)
    child_id, person_id = parsed.int_arg(0), parsed.int_arg(1)
    if family_id is None:
        return None
    if child_id is None or person_id is None:
        await query.answer(_("This button is no longer valid."))
        return None
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        result = await family_requests.request_removal(
            uow, family_id=family_id, user_id=user.id, child_id=child_id, person_id=person_id, now=runtime.now()
        )
        await uow.commit()
    if result.outcome == SubmitOutcome.NOT_OWNED:
        await _refuse_child(update)
        return None
    if result.outcome == SubmitOutcome.NOT_AVAILABLE:
        await query.answer(_("This person is no longer on the list."), show_alert=True)
        return None
    if result.outcome == SubmitOutcome.SUBMITTED and result.request is not None:
        await post_card(context, result.request.id)
        notice = _("✅ Your request has been sent to the structure.")
    else:
        notice = _("You have already asked for this: the structure has not answered yet.")
    await query.answer()
    found = await _sheet(update, context, child_id)
    if found is not None:
        await _show_authorizations(update, context, *found, notice=notice)
    return None


# --- Données sanitaires --------------------------------------------------------------------


def render_health(sheet: ChildSheet, pending: list[HistoryItem], tz: dt.tzinfo) -> str:
    """Vaccinations, allergies, illnesses, contra-indications, PAI, glasses, doctor, and pending additions."""
    child = sheet.child
    lines = [_("🩺 <b>Health data — {name}</b>").format(name=escape(child.first_name)), "", _("<b>Vaccinations</b>")]
    if not sheet.vaccinations:
        lines.append(_("None recorded."))
    for vaccination in sheet.vaccinations:
        parts = [escape(vaccination.name)]
        if vaccination.given_on:
            parts.append(format_short_date(vaccination.given_on))
        if vaccination.dose:
            parts.append(_("dose {dose}").format(dose=escape(vaccination.dose)))
        if vaccination.lot:
            parts.append(_("batch {lot}").format(lot=escape(vaccination.lot)))
        if vaccination.booster_on:
            parts.append(_("booster {date}").format(date=format_short_date(vaccination.booster_on)))
        if vaccination.doctor:
            parts.append(escape(vaccination.doctor))
        lines.append("• " + ", ".join(parts))
    for kind in HealthItemKind:
        items = [item for item in sheet.health_items if item.kind == kind]
        lines += ["", f"<b>{escape(_(HEALTH_ITEM_LABELS[kind]))}</b>"]
        lines += [f"• {escape(item.description)}" for item in items] or [_("None recorded.")]
    lines += [
        "",
        _("Glasses: {answer}").format(answer=yes_no(child.glasses)),
        _("Family doctor: {doctor}").format(
            doctor=escape(" — ".join(part for part in (child.doctor_name, child.doctor_phone) if part) or NOTHING)
        ),
    ]
    if pending:
        lines += ["", _("<b>Additions asked, not yet processed</b>")]
        lines += [render_request_line(item, tz, with_decision=False) for item in pending]
    return "\n".join(lines)


async def show_health(update: Update, context: Context) -> State | None:
    """Données sanitaires, with a button per thing that can be added or changed."""
    tapped = await _tapped_sheet(update, context)
    if tapped is None:
        return None
    query, parsed, family_id, sheet = tapped
    await query.answer()
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        pending = await pending_items(uow, family_id, (RequestKind.HEALTH,), child_id=sheet.child.id)
    child_id = sheet.child.id

    def add(code: str, label: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=callbacks.build(callbacks.FORM_START, code, child_id))

    rows = [
        [add(forms.VACCINATION.code, _("➕ Vaccination")), add(forms.ALLERGY.code, _("➕ Allergy"))],
        [add(forms.ILLNESS.code, _("➕ Illness")), add(forms.CONTRAINDICATION.code, _("➕ Contra-indication"))],
        [add(forms.PAI.code, _("➕ PAI")), add(forms.GLASSES.code, _("👓 Glasses"))],
        [add(forms.DOCTOR.code, _("🩺 Family doctor"))],
        [_child_button(sheet.child), _home_button()],
    ]
    await show(update, render_health(sheet, pending, runtime.settings.tz), InlineKeyboardMarkup(rows))
    return None


# --- Inscriptions --------------------------------------------------------------------------


async def show_enrolment(update: Update, context: Context) -> State | None:
    """📝: the services the child may be enrolled in."""
    tapped = await _tapped_sheet(update, context)
    if tapped is None:
        return None
    query, parsed, _family_id, sheet = tapped
    await query.answer()
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        services = await enrolable_services(uow, sheet, runtime.today())
    child = sheet.child
    lines = [_("📝 <b>Enrol {name} in a service</b>").format(name=escape(child.first_name))]
    pending = sheet.pending_of(RequestKind.ENROLMENT)
    if pending:
        names = ", ".join(escape(str(r.payload.get("service", ""))) for r in pending)
        lines.append(_("Already asked, not yet processed: {services}.").format(services=names))
    if services:
        lines.append(_("Choose the service: the structure will confirm the enrolment."))
    else:
        lines.append(_("{name} is already enrolled in every service.").format(name=escape(child.first_name)))
    rows = [
        [InlineKeyboardButton(service.name, callback_data=callbacks.build(callbacks.FORM_ENROL, child.id, service.id))]
        for service in services
    ]
    rows.append([_child_button(child), _home_button()])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))
    return None


async def start_enrolment(update: Update, context: Context) -> State | None:
    """A service chosen: open the enrolment form (from which date)."""
    tapped = await _tapped_sheet(update, context)
    if tapped is None:
        return None
    query, parsed, family_id, sheet = tapped
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        services = {s.id: s for s in await enrolable_services(uow, sheet, runtime.today())}
    service = services.get(parsed.int_arg(1) or 0)
    if service is None:
        await query.answer(_("This service cannot be chosen any more."), show_alert=True)
        return None
    await query.answer()
    return await open_form(
        update,
        context,
        family_id,
        forms.ENROLMENT,
        child_id=sheet.child.id,
        service_id=service.id,
        subject=f"{sheet.child.first_name} — {service.name}",
    )


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The tab and its buttons (steps of the family conversation)."""
    return [
        CallbackQueryHandler(step(show_children), pattern=rf"^{callbacks.MENU}:{TAB_CHILDREN}$"),
        CallbackQueryHandler(step(show_child), pattern=callbacks.pattern(callbacks.CHILD)),
        CallbackQueryHandler(step(show_authorizations), pattern=callbacks.pattern(callbacks.CHILD_AUTHORIZATIONS)),
        CallbackQueryHandler(step(ask_removal), pattern=callbacks.pattern(callbacks.CHILD_REMOVAL)),
        CallbackQueryHandler(step(confirm_removal), pattern=callbacks.pattern(callbacks.CHILD_REMOVAL_CONFIRM)),
        CallbackQueryHandler(step(show_health), pattern=callbacks.pattern(callbacks.CHILD_HEALTH)),
        CallbackQueryHandler(step(show_enrolment), pattern=callbacks.pattern(callbacks.CHILD_ENROL)),
        CallbackQueryHandler(step(start_enrolment), pattern=callbacks.pattern(callbacks.FORM_ENROL)),
    ]
