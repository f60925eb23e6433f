"""The kinds of personal data the purge removes: the one table of them (`KINDS`).

Each kind once, in the order counts, logs, the audit entry and the page list them: the
[retention] key of its period in config/settings.toml (days; the default and the reason for it
are written there), and its labels — the count noun of `python -m retention` and the page's
English and Thai (served by GET /api/retention). Derived from this table: the settings parsing
(settings.loader), `RetentionPolicy`, the command line's report and the page's retention preview.
tests/retention/test_kinds.py checks that every derived place knows every kind, and the purge
has a step for it.

Adding a kind: a member of `Kind`, its row here, its key in config/settings.toml [retention], a
field of `RetentionPolicy` (named as the key without `_days`) and its step in retention.purge.

No imports from the rest of the project: settings.loader reads the keys from here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Kind(enum.StrEnum):
    """What the purge removes; the values name them in counts, logs and the audit entry."""

    CALL_RECORDING = "call_recording"  # = recordings.models.MediaKind.CALL_RECORDING
    CALLBACK_MESSAGE = "callback_message"  # = recordings.models.MediaKind.CALLBACK_MESSAGE
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
class KindInfo:
    # The [retention] key of the kind's period in days; None: no period of its own (it goes
    # with the thing it belongs to).
    setting: str | None
    noun: str  # counted on the command line: "3 call recording(s)"
    en: str
    th: str

    @property
    def policy_field(self) -> str | None:
        """The `RetentionPolicy` field of its period: the key without `_days`."""
        return self.setting.removesuffix("_days") if self.setting else None

    def labels(self) -> dict[str, str]:
        return {"en": self.en, "th": self.th}


KINDS: Final[dict[Kind, KindInfo]] = {
    Kind.CALL_RECORDING: KindInfo(
        "call_recordings_days", "call recording(s)", "Call recordings", "บันทึกการสนทนา"),
    Kind.CALLBACK_MESSAGE: KindInfo(
        "callback_messages_days", "callback message(s)", "Callback messages", "ข้อความโทรกลับ"),
    Kind.CALL_RECORD: KindInfo(
        "call_records_days", "call record(s)", "Call records", "ประวัติการโทร"),
    Kind.CASE_STUB: KindInfo(
        "case_stubs_days", "case stub(s)", "Case stubs", "ข้อมูลเรื่องเบื้องต้น"),
    Kind.REPORT_FACT: KindInfo(  # goes with its case stub
        None, "report fact(s)", "Report facts", "ข้อมูลสำหรับรายงาน"),
    Kind.STUB_OUTBOX: KindInfo(
        "delivered_outbox_days", "delivered outbox row(s)", "Delivered outbox rows",
        "บันทึกการส่งเรื่องที่ส่งแล้ว"),
    Kind.CALLBACK_REQUEST: KindInfo(
        "closed_callbacks_days", "callback request(s)", "Closed callback requests",
        "คำขอโทรกลับที่ปิดแล้ว"),
    Kind.CALLER_FLAG: KindInfo(
        "ended_caller_flags_days", "caller flag(s)", "Ended caller flags",
        "เครื่องหมายผู้โทรที่สิ้นสุดแล้ว"),
    Kind.WEB_SESSION: KindInfo(
        "expired_sessions_days", "expired web session(s)", "Expired sessions", "เซสชันที่หมดอายุ"),
    Kind.AGENT_ACTIVITY: KindInfo(
        "agent_activity_days", "agent activity interval(s)", "Agent activity",
        "ช่วงเวลาทำงานของเจ้าหน้าที่"),
    # The evidence of who saw or changed the data: kept at least as long as any other kind
    # (settings.loader refuses a shorter period).
    Kind.AUDIT_ENTRY: KindInfo(
        "audit_log_days", "audit log entry(ies)", "Audit log entries", "บันทึกการตรวจสอบ"),
}



def _check_table() -> None:
    if list(KINDS) != list(Kind):
        raise TypeError("retention.kinds.KINDS must have one row per Kind, in Kind's order")
    for kind, info in KINDS.items():
        if info.setting is not None and not info.setting.endswith("_days"):
            raise TypeError(f"retention.kinds.KINDS[{kind}]: its key must end in _days")


_check_table()


def period_settings() -> dict[Kind, str]:
    """The [retention] key of each kind with a period of its own, in the table's order."""
    return {kind: info.setting for kind, info in KINDS.items() if info.setting is not None}


def labels() -> dict[str, dict[str, str]]:
    """The page's labels of every kind (English and Thai), by the kind's value."""
    return {kind.value: info.labels() for kind, info in KINDS.items()}
