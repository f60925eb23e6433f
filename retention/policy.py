"""The kinds of personal data the purge knows, and how long each is kept.

Periods come from config/settings.toml [retention]; the reasons for each are written there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Final

from recordings.models import MediaKind
from settings.loader import RetentionSettings


class Kind(enum.StrEnum):
    """What the purge removes; the values name them in counts, logs and the audit entry."""

    CALL_RECORDING = MediaKind.CALL_RECORDING.value
    CALLBACK_MESSAGE = MediaKind.CALLBACK_MESSAGE.value
    CALL_RECORD = "call_record"  # calls and their steps
    CASE_STUB = "case_stub"
    REPORT_FACT = "report_fact"  # the reports' projection of a stub: goes with the stub
    STUB_OUTBOX = "stub_outbox"  # delivered outbox rows
    CALLBACK_REQUEST = "callback_request"  # closed callbacks and their attempts
    CALLER_FLAG = "caller_flag"  # ended flags
    WEB_SESSION = "web_session"  # expired sessions
    AGENT_ACTIVITY = "agent_activity"  # agents' logged-in / paused intervals
    AUDIT_ENTRY = "audit_entry"


@dataclass(frozen=True)
class RetentionPolicy:
    """One period per kind (report facts have none of their own: they go with their stub)."""

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
        return cls(**{f.name: timedelta(days=getattr(s, f"{f.name}_days")) for f in fields(cls)})

    def of(self, kind: Kind) -> timedelta:
        period: timedelta = getattr(self, _FIELD[kind])
        return period

    def period(self, kind: MediaKind) -> timedelta:
        return self.of(Kind(kind.value))

    def as_json(self) -> dict[str, int]:
        return {kind.value: self.of(kind).days for kind in _FIELD}


_FIELD: Final = {
    Kind.CALL_RECORDING: "call_recordings",
    Kind.CALLBACK_MESSAGE: "callback_messages",
    Kind.CALL_RECORD: "call_records",
    Kind.CASE_STUB: "case_stubs",
    Kind.STUB_OUTBOX: "delivered_outbox",
    Kind.CALLBACK_REQUEST: "closed_callbacks",
    Kind.CALLER_FLAG: "ended_caller_flags",
    Kind.WEB_SESSION: "expired_sessions",
    Kind.AGENT_ACTIVITY: "agent_activity",
    Kind.AUDIT_ENTRY: "audit_log",
}
