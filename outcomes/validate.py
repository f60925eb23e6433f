"""Checks an agent's outcome against the taxonomy and returns it cleaned.

Every broken rule is reported at once, by field, in Thai and English, so the form can show each
message next to its field. Empty strings count as "not given" (an untouched <select>).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers

from outcomes.errors import Errors
from outcomes.taxonomy import Category, Choices, Taxonomy

NOTES_MAX = 4000
DISTRICT_MAX = 100
FIELDS = (
    "category", "subtype", "problem_types", "target_group", "sex", "province", "district",
    "referral", "mobile_team_result", "notes",
)
REFERRAL_FIELDS = ("urgency", "destination")
DESTINATION_FIELDS = ("kind", "id", "country")
# Regions phonenumbers knows are exactly the ISO 3166-1 alpha-2 codes a caller can be in.
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)


class OutcomeValidator:
    def __init__(self, taxonomy: Taxonomy) -> None:
        self.tax = taxonomy

    def validate(self, data: object) -> dict[str, Any]:
        """The cleaned outcome (with the taxonomy version), or Invalid naming each bad field."""
        errors = Errors("the outcome")
        body = _object(data, "", errors)
        _reject_unknown(body, FIELDS, "", errors)
        category = self._category(body, errors)
        outcome = {
            "category": category.id if category else None,
            "subtype": self._subtype(body, category, errors),
            "problem_types": self._problem_types(body, errors),
            "target_group": _choice(body, "target_group", self.tax.target_groups, errors),
            "sex": _choice(body, "sex", self.tax.sexes, errors),
            "province": _choice(body, "province", self.tax.provinces, errors),
            "district": self._district(body, errors),
            "referral": self._referral(body, errors),
            "mobile_team_result": _choice(
                body, "mobile_team_result", self.tax.mobile_team_results, errors
            ),
            "notes": _text(body, "notes", NOTES_MAX, errors) or "",
        }
        if category is not None:
            _require_for(category, outcome, errors)
        errors.raise_if_any()
        return {**outcome, "taxonomy_version": self.tax.version}

    def _category(self, body: Mapping[str, Any], errors: Errors) -> Category | None:
        if _given(body, "category") is None:
            errors.required("category")
            return None
        choice = _choice(body, "category", self.tax.categories, errors)
        return self.tax.categories.get(choice) if choice else None

    def _subtype(
        self, body: Mapping[str, Any], category: Category | None, errors: Errors
    ) -> str | None:
        if category is None or _given(body, "subtype") is None:
            return None
        if category.subtypes is None:
            errors.add(
                "subtype", "not_allowed", f"category {category.id!r} has no subtypes",
                f"ประเภท '{category.th}' ไม่มีประเภทย่อย",
            )
            return None
        return _choice(body, "subtype", category.subtypes, errors)

    def _problem_types(self, body: Mapping[str, Any], errors: Errors) -> list[str]:
        value = _given(body, "problem_types")
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.wrong_type("problem_types", "a list of problem type ids", "รายการรหัสประเภทปัญหา")
            return []
        unknown = [v for v in value if v not in self.tax.problem_types]
        if unknown:
            errors.unknown_choice("problem_types", unknown[0], self.tax.problem_types.ids)
        if len(set(value)) != len(value):
            errors.add("problem_types", "duplicate", "a problem type is listed twice",
                       "มีประเภทปัญหาซ้ำกัน")
        return list(value)

    def _district(self, body: Mapping[str, Any], errors: Errors) -> str | None:
        district = _text(body, "district", DISTRICT_MAX, errors)
        if district and _given(body, "province") is None:
            errors.add("district", "needs_province", "a district needs its province",
                       "ระบุอำเภอ/เขตแล้ว ต้องระบุจังหวัดด้วย")
        return district

    def _referral(self, body: Mapping[str, Any], errors: Errors) -> dict[str, Any] | None:
        if _given(body, "referral") is None:
            return None
        referral = _object(body["referral"], "referral", errors)
        _reject_unknown(referral, REFERRAL_FIELDS, "referral.", errors)
        if _given(referral, "urgency") is None:
            errors.required("referral.urgency", " for a referral", "ระดับความเร่งด่วนของการส่งต่อ")
        if _given(referral, "destination") is None:
            errors.required("referral.destination", " for a referral", "หน่วยงานปลายทาง")
        return {
            "urgency": _choice(referral, "urgency", self.tax.referral_urgency, errors, "referral."),
            "destination": self._destination(referral, errors),
        }

    def _destination(self, referral: Mapping[str, Any], errors: Errors) -> dict[str, Any] | None:
        if _given(referral, "destination") is None:
            return None
        path = "referral.destination."
        dest = _object(referral["destination"], "referral.destination", errors)
        _reject_unknown(dest, DESTINATION_FIELDS, path, errors)
        kind = _choice(dest, "kind", self.tax.destination_kinds, errors, path)
        if _given(dest, "kind") is None:
            errors.required(f"{path}kind")
        places = self.tax.destinations(kind) if kind else None
        if places is not None and _given(dest, "id") is None:
            errors.required(f"{path}id", f" for a destination of kind {kind!r}", "หน่วยงานปลายทาง")
        place = _choice(dest, "id", places, errors, path) if places is not None else None
        return {"kind": kind, "id": place, "country": _country(dest, kind, errors)}


def _require_for(category: Category, outcome: Mapping[str, Any], errors: Errors) -> None:
    for name in sorted(category.requires):
        if not outcome.get(name) and not errors.has(name):
            errors.required(
                name, f" for category {category.id!r}", f"สำหรับประเภท '{category.th}'"
            )


def _country(dest: Mapping[str, Any], kind: str | None, errors: Errors) -> str | None:
    path = "referral.destination.country"
    country = _given(dest, "country")
    if country is None:
        return None
    if kind != "abroad":
        errors.add(path, "not_allowed", "a country is given only for an agency abroad",
                   "ระบุประเทศเฉพาะหน่วยงานในต่างประเทศ")
        return None
    code = str(country).upper()
    if code not in COUNTRIES:
        errors.add(path, "unknown_choice",
                   f"unknown country {country!r}; use an ISO 3166-1 alpha-2 code such as 'MM'",
                   f"ไม่รู้จักรหัสประเทศ '{country}' (ใช้รหัส ISO 2 ตัวอักษร เช่น MM)")
        return None
    return code


def _given(body: Mapping[str, Any], name: str) -> Any:
    value = body.get(name)
    return None if value is None or value == "" or value == [] else value


def _choice(
    body: Mapping[str, Any], name: str, choices: Choices[Any], errors: Errors, prefix: str = "",
) -> str | None:
    value = _given(body, name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.wrong_type(prefix + name, "a string id", "รหัสที่เป็นข้อความ")
        return None
    if value not in choices:
        errors.unknown_choice(prefix + name, value, choices.ids)
        return None
    return value


def _text(body: Mapping[str, Any], name: str, limit: int, errors: Errors) -> str | None:
    value = _given(body, name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.wrong_type(name, "text", "ข้อความ")
        return None
    value = value.strip()
    if len(value) > limit:
        errors.too_long(name, limit, len(value))
    return value or None


def _object(value: object, path: str, errors: Errors) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    errors.wrong_type(path or "outcome", "a JSON object", "ออบเจกต์ JSON")
    return {}


def _reject_unknown(
    body: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, errors: Errors
) -> None:
    unknown = sorted(str(k) for k in body if k not in allowed)
    errors.unknown_fields([prefix + k for k in unknown], allowed)

