"""The request forms: values stored as strings, read back typed, changes and missing fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bot.domain import forms
from bot.domain.forms import EMPTY, FieldKind
from bot.domain.model import Regime, RequestKind
from bot.domain.validators import Problem, ValidationError

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("form", "key", "typed", "stored", "typed_back"),
    [
        (forms.RESPONSABLE, "phone_mobile", "0781223344", "07 81 22 33 44", "07 81 22 33 44"),
        (forms.RESPONSABLE, "sms_consent", "yes", "yes", True),
        (forms.CAF, "quotient_familial", "912,5", "912.50", Decimal("912.50")),
        (forms.CAF, "caf_children_count", "3", "3", 3),
        (forms.FISCAL, "regime", "msa", "msa", Regime.MSA),
        (forms.VACCINATION, "given_on", "12/06/2014", "2014-06-12", dt.date(2014, 6, 12)),
        (
            forms.BANK,
            "iban",
            "fr76 3000 6000 0112 3456 7890 189",
            "FR7630006000011234567890189",
            "FR7630006000011234567890189",
        ),
    ],
)
def test_a_typed_value_is_stored_as_text_and_read_back_typed(
    form, key, typed, stored, typed_back
) -> None:  # type: ignore[no-untyped-def]
    field = form.field(key)
    assert forms.normalise(field, typed, TODAY) == stored
    assert forms.to_python(field, stored) == typed_back


def test_an_emptied_optional_field_is_none_and_a_yes_no_is_false() -> None:
    assert forms.to_python(forms.RESPONSABLE.field("phone_work"), EMPTY) is None
    assert forms.to_python(forms.BANK.field("direct_debit"), EMPTY) is False


def test_a_choice_outside_the_buttons_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        forms.normalise(forms.FISCAL.field("regime"), "bank", TODAY)
    assert caught.value.code == Problem.CHOICE


def test_current_values_of_a_record_and_what_changed() -> None:
    family = SimpleNamespace(
        caf_number="1234567", caf_children_count=2, quotient_familial=Decimal("850")
    )
    current = forms.current_values(forms.CAF, family)
    assert current == {
        "caf_number": "1234567",
        "caf_children_count": "2",
        "quotient_familial": "850.00",
    }
    draft = {"caf_number": "1234567", "quotient_familial": "900.00"}
    assert forms.changed_values(forms.CAF, current, draft) == {"quotient_familial": "900.00"}
    assert forms.needs_proof(forms.CAF, {"quotient_familial": "900.00"})
    assert not forms.needs_proof(forms.CAF, {"caf_number": "7654321"})


def test_required_fields_and_one_phone_at_least_for_an_authorised_person() -> None:
    missing = forms.missing_fields(forms.AUTHORIZATION, {"last_name": "MARTIN"})
    assert [field.key for field in missing] == ["relation", "phone"]
    assert (
        forms.missing_fields(
            forms.AUTHORIZATION,
            {"last_name": "MARTIN", "relation": "Voisine", "mobile": "06 12 34 56 78"},
        )
        == []
    )


def test_rechecking_a_draft_refuses_a_value_that_is_no_longer_valid() -> None:
    with pytest.raises(ValidationError):
        forms.checked_values(forms.ENROLMENT, {"starts_on": "2026-11-20"}, TODAY)
    assert forms.checked_values(forms.ENROLMENT, {"starts_on": "2026-11-30"}, TODAY) == {
        "starts_on": "2026-11-30"
    }


def test_every_form_has_unique_keys_and_a_known_kind() -> None:
    for form in forms.FORMS.values():
        keys = [field.key for field in form.fields]
        assert len(keys) == len(set(keys)), form.code
        assert form.kind in RequestKind
        for field in form.fields:
            assert (field.kind is FieldKind.CHOICE) == bool(field.choices), (form.code, field.key)


@pytest.mark.parametrize(
    ("given_on", "booster_on", "wrong"),
    [
        ("2026-10-01", "2026-09-30", ["booster_on"]),  # a booster before the vaccination
        ("2026-10-01", "2026-10-01", []),
        ("2026-10-01", "2027-10-01", []),
        ("2026-10-01", EMPTY, []),
    ],
)
def test_a_booster_cannot_be_dated_before_its_vaccination(
    given_on: str, booster_on: str, wrong: list[str]
) -> None:
    values = {"name": "DTP", "given_on": given_on, "booster_on": booster_on}
    assert [f.key for f in forms.out_of_order(forms.VACCINATION, values)] == wrong


@pytest.mark.parametrize(
    ("phone", "mobile", "missing"),
    [
        (EMPTY, EMPTY, ["phone"]),  # a pickup person nobody can call
        ("05 61 00 00 00", EMPTY, []),
        (EMPTY, "06 12 34 56 78", []),
    ],
)
def test_a_pickup_person_needs_a_phone(phone: str, mobile: str, missing: list[str]) -> None:
    values = {
        "last_name": "MARTIN",
        "first_name": "PAUL",
        "relation": "Oncle",
        "phone": phone,
        "mobile": mobile,
    }
    assert [f.key for f in forms.missing_fields(forms.AUTHORIZATION, values)] == missing
