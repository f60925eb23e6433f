"""JSON Schemas of the outcome and contact bodies for the OpenAPI description, generated from
the taxonomy so the documented enums are the validator's (the validator gives the messages)."""

from __future__ import annotations

from typing import Any

from outcomes.contact_form import PRIORITIES, REFERENCE_MAX
from outcomes.taxonomy import Choices, Taxonomy
from outcomes.validate import DISTRICT_MAX, NOTES_MAX


def _enum(choices: Choices[Any]) -> dict[str, Any]:
    return {"type": ["string", "null"], "enum": [*choices.ids, None]}


def outcome_schema(tax: Taxonomy) -> dict[str, Any]:
    subtypes = sorted({s for c in tax.categories if c.subtypes for s in c.subtypes.ids})
    places = [*tax.departments.ids, *tax.provinces.ids, *tax.agencies_abroad.ids]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["category"],
        "properties": {
            "category": {"type": "string", "enum": list(tax.categories.ids)},
            "subtype": {"type": ["string", "null"], "enum": [*subtypes, None]},
            "problem_types": {
                "type": "array", "uniqueItems": True,
                "items": {"type": "string", "enum": list(tax.problem_types.ids)},
            },
            "target_group": _enum(tax.target_groups),
            "sex": _enum(tax.sexes),
            "province": _enum(tax.provinces),
            "district": {"type": ["string", "null"], "maxLength": DISTRICT_MAX},
            "referral": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "required": ["urgency", "destination"],
                "properties": {
                    "urgency": {"type": "string", "enum": list(tax.referral_urgency.ids)},
                    "destination": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["kind", "id"],
                        "properties": {
                            "kind": {"type": "string", "enum": list(tax.destination_kinds.ids)},
                            "id": {"type": "string", "enum": places},
                            "country": {"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$"},
                        },
                    },
                },
            },
            "mobile_team_result": _enum(tax.mobile_team_results),
            "notes": {"type": ["string", "null"], "maxLength": NOTES_MAX},
        },
    }


def contact_schema(tax: Taxonomy) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["channel"],
        "properties": {
            "channel": {"type": "string", "enum": list(tax.non_call_channels.ids)},
            "received_at": {"type": ["string", "null"], "format": "date-time"},
            "caller_number": {"type": ["string", "null"], "maxLength": 32},
            "language": {"type": ["string", "null"], "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"},
            "priority": {"type": ["string", "null"], "enum": [*PRIORITIES, None]},
            "reference": {"type": ["string", "null"], "maxLength": REFERENCE_MAX},
            "outcome": {"oneOf": [{"type": "null"}, outcome_schema(tax)]},
        },
    }
