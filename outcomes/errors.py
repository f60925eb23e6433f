"""Per-field validation errors in Thai and English, so one answer names each bad field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from web.auth import json_error


@dataclass(frozen=True)
class FieldError:
    code: str
    en: str
    th: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.en, "message_th": self.th}


class Invalid(Exception):
    """Input that breaks one or more rules; `fields` maps a dotted field path to its error."""

    def __init__(self, what: str, fields: dict[str, FieldError]) -> None:
        super().__init__(f"{what}: " + "; ".join(f"{k}: {v.en}" for k, v in fields.items()))
        self.what = what
        self.fields = fields

    def as_http(self) -> web.HTTPException:
        return json_error(
            web.HTTPBadRequest, f"{self.what} is not valid",
            fields={path: error.as_json() for path, error in self.fields.items()},
        )


class Errors:
    """Accumulates field errors; the first error of a field wins (it is the most basic one)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.fields: dict[str, FieldError] = {}

    def add(self, path: str, code: str, en: str, th: str) -> None:
        self.fields.setdefault(path, FieldError(code, en, th))

    def has(self, path: str) -> bool:
        return path in self.fields

    def raise_if_any(self) -> None:
        if self.fields:
            raise Invalid(self.what, dict(self.fields))

    # The common rules, worded once.
    def required(self, path: str, why_en: str = "", why_th: str = "") -> None:
        self.add(path, "required", f"required{why_en}", f"ต้องระบุ{why_th}")

    def wrong_type(self, path: str, expected_en: str, expected_th: str) -> None:
        self.add(path, "wrong_type", f"must be {expected_en}", f"ต้องเป็น{expected_th}")

    def too_long(self, path: str, limit: int, actual: int) -> None:
        self.add(
            path, "too_long", f"at most {limit} characters (got {actual})",
            f"ยาวได้ไม่เกิน {limit} ตัวอักษร (ได้รับ {actual})",
        )

    def unknown_choice(self, path: str, value: Any, allowed: tuple[str, ...]) -> None:
        shown = ", ".join(allowed) if len(allowed) <= 20 else "see GET /api/taxonomy"
        self.add(
            path, "unknown_choice", f"unknown value {value!r}; choose one of: {shown}",
            f"ไม่มีค่า '{value}' ในรายการที่เลือกได้",
        )

    def unknown_fields(self, names: list[str], allowed: tuple[str, ...]) -> None:
        for name in names:
            self.add(
                name, "unknown_field", f"unknown field; allowed fields: {', '.join(allowed)}",
                "ไม่รู้จักช่องข้อมูลนี้",
            )
