"""How long each kind of personal data is kept.

The kinds, their [retention] keys and labels: retention.kinds.KINDS. Periods come from
config/settings.toml [retention]; the reasons for each are written there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Final

from recordings.models import MediaKind
from retention.kinds import KINDS, Kind
from settings.loader import RetentionSettings

__all__ = ["Kind", "RetentionPolicy"]


@dataclass(frozen=True)
class RetentionPolicy:
    """One period per kind with its own (report facts have none: they go with their stub).

    A kind's field is named by retention.kinds.KINDS (its [retention] key without `_days`);
    typed fields, so the purge's queries read them by name and a tool may build a policy by
    keyword (bench/media_pipeline.py). Checked against the table on import."""

    call_recordings: timedelta
    callback_messages: timedelta
    call_records: timedelta
    case_stubs: timedelta
    delivered_outbox: timedelta
    closed_callbacks: timedelta
    ended_caller_flags: timedelta
    expired_sessions: timedelta
    agent_activity: timedelta
    audit_log: timedelta

    @classmethod
    def from_settings(cls, s: RetentionSettings) -> RetentionPolicy:
        return cls(**{_FIELD[kind]: timedelta(days=days) for kind, days in s.days.items()})

    def of(self, kind: Kind) -> timedelta:
        period: timedelta = getattr(self, _FIELD[kind])
        return period

    def period(self, kind: MediaKind) -> timedelta:
        return self.of(Kind(kind.value))

    def as_json(self) -> dict[str, int]:
        return {kind.value: self.of(kind).days for kind in _FIELD}


# The field of each kind with a period, in the table's order.
_FIELD: Final = {kind: info.policy_field for kind, info in KINDS.items()
                 if info.policy_field is not None}


def _check_fields() -> None:
    names = [f.name for f in fields(RetentionPolicy)]
    if names != list(_FIELD.values()):
        raise TypeError(f"RetentionPolicy's fields {names} are not retention.kinds.KINDS' "
                        f"periods {list(_FIELD.values())}")
    strays = {m.value for m in MediaKind} - set(Kind)
    if strays:
        raise TypeError(f"media kinds {sorted(strays)} are not kinds of retention.kinds.Kind")


_check_fields()
