"""Mes enfants: the list, the fiche enfant, Les autorisations, Données sanitaires, inscriptions.

Every button names a child by id: the page's service checks it is one of the tapping parent's
family, and a forged one is refused (`ChildNotInFamily`, audited) with an alert. Changes go
through the forms of `conversations.forms` and become requests; removals of authorised persons
too.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.domain import forms
from bot.domain.model import HealthItemKind, RequestKind
from bot.family_texts import HEALTH_ITEM_LABELS, NOTHING, yes_no
from bot.i18n import N_, _, by_sex, format_day, format_short_date, ngettext, pgettext
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services import family_requests
from bot.services.children import (
    AuthorizationsPage,
    ChildrenPage,
    ChildSheet,
    HealthPage,
    authorizations_page,
    child_page,
    children_page,
    current_enrolments,
    enrolment_page,
    health_page,
    removal_question,
)
from bot.services.family_requests import SubmitOutcome
from bot.services.request_history import HistoryItem
from conversations.common import (
    TAB_CHILDREN,
    Context,
    answer_query,
    escape,
    parent_handler,
    show,
    user_id_of,
)
from conversations.forms import State, begin_draft, family_tap, step, tapped
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
        label or _("◀ {name}").format(name=child.first_name),
        callback_data=callbacks.build(callbacks.CHILD, child.id),
    )


# --- The list and the fiche ----------------------------------------------------------------


@parent_handler
async def show_children(update: Update, context: Context) -> State | None:
    """The Mes enfants tab: each child with school and class, and "Ajouter un enfant"."""
    runtime = get_runtime(context)
    page = await children_page(runtime.database, user_id_of(update))
    await show(update, render_children(page, runtime.settings.tz), children_keyboard(page))
    return None


def render_children(page: ChildrenPage, tz: dt.tzinfo) -> str:
    """The list of the children, and those asked to be added."""
    lines = [_("👧 <b>My children</b>")]
    if not page.children:
        lines += ["", _("No child is recorded for your family.")]
    for child in page.children:
        born = format_short_date(child.birth_date) if child.birth_date else NOTHING
        lines += [
            "",
            f"<b>{escape(child.first_name)} {escape(child.last_name)}</b>",
            by_sex(
                child.sex,
                female=pgettext("female", "Born on {date}"),
                male=pgettext("male", "Born on {date}"),
                unknown=_("Born on {date}"),
            ).format(date=born),
            _("School: {school} — class {class_name}").format(
                school=escape(child.school or NOTHING),
                class_name=escape(child.class_name or NOTHING),
            ),
        ]
    if page.pending_additions:
        lines += ["", _("<b>Children to add, not yet processed</b>")]
        lines += [
            render_request_line(item, tz, with_decision=False) for item in page.pending_additions
        ]
    lines += ["", _("Tap a child to see their record.")]
    return "\n".join(lines)


def children_keyboard(page: ChildrenPage) -> InlineKeyboardMarkup:
    """A button per child, "Ajouter un enfant", home."""
    rows = [[_child_button(child, f"👧 {child.first_name}")] for child in page.children]
    rows.append(
        [
            InlineKeyboardButton(
                _("➕ Add a child"),
                callback_data=callbacks.build(callbacks.FORM_START, forms.ADD_CHILD.code, 0),
            )
        ]
    )
    rows.append([_home_button()])
    return InlineKeyboardMarkup(rows)


@family_tap
async def show_child(update: Update, context: Context) -> State | None:
    """The fiche enfant: identity, school and class, responsable, inscriptions ("◀ My children"
    names child 0: the list)."""
    parsed = tapped(update)
    runtime = get_runtime(context)
    if parsed.arg(0) == "0":
        page = await children_page(runtime.database, user_id_of(update))
        await answer_query(update)
        await show(update, render_children(page, runtime.settings.tz), children_keyboard(page))
        return None
    sheet = await child_page(
        runtime.database, user_id_of(update), parsed.int_arg(0), now=runtime.now()
    )
    await answer_query(update)
    await show(
        update, render_child(sheet, runtime.today()), child_keyboard(sheet.child, runtime.today())
    )
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
            by_sex(
                child.sex,
                female=pgettext("female", "Born on {date} ({age})"),
                male=pgettext("male", "Born on {date} ({age})"),
                unknown=_("Born on {date} ({age})"),
            ).format(
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
            InlineKeyboardButton(
                _("🛡 Authorisations"),
                callback_data=callbacks.build(callbacks.CHILD_AUTHORIZATIONS, child.id),
            ),
            InlineKeyboardButton(
                _("🩺 Health data"), callback_data=callbacks.build(callbacks.CHILD_HEALTH, child.id)
            ),
        ],
        [
            InlineKeyboardButton(
                _("✏️ Ask for a change"),
                callback_data=callbacks.build(
                    callbacks.FORM_START, forms.CHILD_DATA.code, child.id
                ),
            ),
            InlineKeyboardButton(
                _("📝 Enrol in a service"),
                callback_data=callbacks.build(callbacks.CHILD_ENROL, child.id),
            ),
        ],
        [
            InlineKeyboardButton(
                _("📄 Registration form (PDF)"),
                callback_data=callbacks.build(callbacks.REGISTRATION_FORM, child.id),
            )
        ],
    ]
    extra = []
    planning = getattr(callbacks, "PLANNING_MONTH", None)
    if planning in callbacks.ACTIONS:
        extra.append(
            InlineKeyboardButton(
                _("📅 Planning"),
                callback_data=callbacks.build(
                    planning, child.id, f"{today.year:04d}{today.month:02d}"
                ),
            )
        )
    tariffs = getattr(callbacks, "TARIFFS", None)
    if tariffs in callbacks.ACTIONS:
        extra.append(
            InlineKeyboardButton(_("💶 Current tariffs"), callback_data=callbacks.build(tariffs))
        )
    if extra:
        rows.append(extra)
    rows.append(
        [
            InlineKeyboardButton(
                _("◀ My children"), callback_data=callbacks.build(callbacks.CHILD, 0)
            ),
            _home_button(),
        ]
    )
    return InlineKeyboardMarkup(rows)


# --- Les autorisations ---------------------------------------------------------------------


def _person(person: AuthorizedPerson) -> str:
    name = " ".join(part for part in (person.last_name, person.first_name) if part)
    phones = ", ".join(part for part in (person.phone, person.mobile) if part)
    return " — ".join(escape(part) for part in (name, person.relation or "", phones) if part)


@family_tap
async def show_authorizations(update: Update, context: Context) -> State | None:
    """Les autorisations: who may pick the child up, with the additions and removals asked."""
    runtime = get_runtime(context)
    page = await authorizations_page(
        runtime.database, user_id_of(update), tapped(update).int_arg(0), now=runtime.now()
    )
    await answer_query(update)
    await _show_authorizations(update, page, runtime.settings.tz)
    return None


async def _show_authorizations(
    update: Update, page: AuthorizationsPage, tz: dt.tzinfo, notice: str = ""
) -> None:
    child = page.sheet.child
    lines = [_("🛡 <b>Authorisations — {name}</b>").format(name=escape(child.first_name))]
    if notice:
        lines += ["", notice]
    lines += ["", _("<b>Persons authorised to pick the child up</b>")]
    if not page.sheet.authorized_persons:
        lines.append(_("Nobody is recorded yet."))
    lines += [f"• {_person(person)}" for person in page.sheet.authorized_persons]
    if page.additions:
        lines += ["", _("<b>Additions asked, not yet processed</b>")]
        lines += [render_request_line(item, tz, with_decision=False) for item in page.additions]
    if page.removals:
        lines += ["", _("<b>Removals asked, not yet processed</b>")]
        lines += [render_request_line(item, tz, with_decision=False) for item in page.removals]
    removable = page.removable
    if removable:
        lines += ["", _("Tap 🗑 to ask for the removal of an authorisation.")]
    rows = [
        [
            InlineKeyboardButton(
                _("🗑 {name}").format(
                    name=" ".join(part for part in (person.last_name, person.first_name) if part)
                ),
                callback_data=callbacks.build(callbacks.CHILD_REMOVAL, child.id, person.id),
            )
        ]
        for person in removable
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("➕ New person"),
                callback_data=callbacks.build(
                    callbacks.FORM_START, forms.AUTHORIZATION.code, child.id
                ),
            )
        ]
    )
    rows.append([_child_button(child), _home_button()])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))


@family_tap
async def ask_removal(update: Update, context: Context) -> State | None:
    """🗑: confirm before asking for the removal."""
    parsed = tapped(update)
    runtime = get_runtime(context)
    question = await removal_question(
        runtime.database,
        user_id_of(update),
        parsed.int_arg(0),
        parsed.int_arg(1),
        now=runtime.now(),
    )
    await answer_query(update)
    child, person = question.child, question.person
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("Yes, ask for the removal"),
                    callback_data=callbacks.build(
                        callbacks.CHILD_REMOVAL_CONFIRM, child.id, person.id
                    ),
                ),
                InlineKeyboardButton(
                    _("No"), callback_data=callbacks.build(callbacks.CHILD_AUTHORIZATIONS, child.id)
                ),
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


@family_tap
async def confirm_removal(update: Update, context: Context) -> State | None:
    """Yes: record the removal request (once, even when tapped twice)."""
    parsed = tapped(update)
    runtime = get_runtime(context)
    result = await family_requests.request_removal(
        runtime.database,
        user_id_of(update),
        child_id=parsed.int_arg(0),
        person_id=parsed.int_arg(1),
        now=runtime.now(),
    )
    await answer_query(update)
    if result.outcome == SubmitOutcome.SUBMITTED:
        notice = _("✅ Your request has been sent to the structure.")
    else:
        notice = _("You have already asked for this: the structure has not answered yet.")
    await _show_authorizations(update, result.page, runtime.settings.tz, notice=notice)
    return None


# --- Données sanitaires --------------------------------------------------------------------


def render_health(sheet: ChildSheet, pending: list[HistoryItem], tz: dt.tzinfo) -> str:
    """Vaccinations, allergies, illnesses, contra-indications, PAI, glasses, doctor, and pending additions."""
    child = sheet.child
    lines = [
        _("🩺 <b>Health data — {name}</b>").format(name=escape(child.first_name)),
        "",
        _("<b>Vaccinations</b>"),
    ]
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
            doctor=escape(
                " — ".join(part for part in (child.doctor_name, child.doctor_phone) if part)
                or NOTHING
            )
        ),
    ]
    if pending:
        lines += ["", _("<b>Additions asked, not yet processed</b>")]
        lines += [render_request_line(item, tz, with_decision=False) for item in pending]
    return "\n".join(lines)


@family_tap
async def show_health(update: Update, context: Context) -> State | None:
    """Données sanitaires, with a button per thing that can be added or changed."""
    runtime = get_runtime(context)
    page = await health_page(
        runtime.database, user_id_of(update), tapped(update).int_arg(0), now=runtime.now()
    )
    await answer_query(update)
    await show(
        update, render_health(page.sheet, page.pending, runtime.settings.tz), health_keyboard(page)
    )
    return None


def health_keyboard(page: HealthPage) -> InlineKeyboardMarkup:
    """A button per thing of the health data that can be added or changed."""
    child_id = page.sheet.child.id

    def add(code: str, label: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label, callback_data=callbacks.build(callbacks.FORM_START, code, child_id)
        )

    return InlineKeyboardMarkup(
        [
            [
                add(forms.VACCINATION.code, _("➕ Vaccination")),
                add(forms.ALLERGY.code, _("➕ Allergy")),
            ],
            [
                add(forms.ILLNESS.code, _("➕ Illness")),
                add(forms.CONTRAINDICATION.code, _("➕ Contra-indication")),
            ],
            [add(forms.PAI.code, _("➕ PAI")), add(forms.GLASSES.code, _("👓 Glasses"))],
            [add(forms.DOCTOR.code, _("🩺 Family doctor"))],
            [_child_button(page.sheet.child), _home_button()],
        ]
    )


# --- Inscriptions --------------------------------------------------------------------------


@family_tap
async def show_enrolment(update: Update, context: Context) -> State | None:
    """📝: the services the child may be enrolled in."""
    runtime = get_runtime(context)
    page = await enrolment_page(
        runtime.database,
        user_id_of(update),
        tapped(update).int_arg(0),
        now=runtime.now(),
        today=runtime.today(),
    )
    await answer_query(update)
    child = page.sheet.child
    lines = [_("📝 <b>Enrol {name} in a service</b>").format(name=escape(child.first_name))]
    pending = page.sheet.pending_of(RequestKind.ENROLMENT)
    if pending:
        names = ", ".join(escape(str(r.payload.get("service", ""))) for r in pending)
        lines.append(_("Already asked, not yet processed: {services}.").format(services=names))
    if page.services:
        lines.append(_("Choose the service: the structure will confirm the enrolment."))
    else:
        enrolled = by_sex(
            child.sex,
            female=pgettext("female", "{name} is already enrolled in every service."),
            male=pgettext("male", "{name} is already enrolled in every service."),
            unknown=_("{name} is already enrolled in every service."),
        )
        lines.append(enrolled.format(name=escape(child.first_name)))
    rows = [
        [
            InlineKeyboardButton(
                service.name,
                callback_data=callbacks.build(callbacks.FORM_ENROL, child.id, service.id),
            )
        ]
        for service in page.services
    ]
    rows.append([_child_button(child), _home_button()])
    await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))
    return None


@family_tap
async def start_enrolment(update: Update, context: Context) -> State | None:
    """A service chosen: open the enrolment form (from which date)."""
    parsed = tapped(update)
    runtime = get_runtime(context)
    opened = await family_requests.open_enrolment(
        runtime.database,
        user_id_of(update),
        parsed.int_arg(0),
        parsed.int_arg(1),
        now=runtime.now(),
        today=runtime.today(),
    )
    await answer_query(update)
    return await begin_draft(update, context, opened)


def build_handlers() -> list[AnyHandler]:
    """The tab and its buttons (steps of the family conversation)."""
    return [
        CallbackQueryHandler(step(show_children), pattern=rf"^{callbacks.MENU}:{TAB_CHILDREN}$"),
        CallbackQueryHandler(step(show_child), pattern=callbacks.pattern(callbacks.CHILD)),
        CallbackQueryHandler(
            step(show_authorizations), pattern=callbacks.pattern(callbacks.CHILD_AUTHORIZATIONS)
        ),
        CallbackQueryHandler(step(ask_removal), pattern=callbacks.pattern(callbacks.CHILD_REMOVAL)),
        CallbackQueryHandler(
            step(confirm_removal), pattern=callbacks.pattern(callbacks.CHILD_REMOVAL_CONFIRM)
        ),
        CallbackQueryHandler(step(show_health), pattern=callbacks.pattern(callbacks.CHILD_HEALTH)),
        CallbackQueryHandler(
            step(show_enrolment), pattern=callbacks.pattern(callbacks.CHILD_ENROL)
        ),
        CallbackQueryHandler(
            step(start_enrolment), pattern=callbacks.pattern(callbacks.FORM_ENROL)
        ),
    ]
