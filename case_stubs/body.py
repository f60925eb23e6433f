"""Building and merging stub bodies (pure functions; the service does the I/O).

A stub has several writers: the call tracker (call facts), the agent (outcome), the callback
placer (callback attempts), the transcription worker and triage. Each owns some fields; `merge_*`
functions change only their own, so a late call update never wipes an outcome and vice versa.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Final

from agent_routing.skills import routing
from call_log.numbers import normalize
from call_log.record import CallSnapshot

PRIORITY_ORDER: Final = ("normal", "urgent", "critical")
# Fields that identify a revision rather than describe the contact.
_VOLATILE: Final = ("revision", "updated_at")
# Call dispositions → the contract's vocabulary; the finer detail goes to call.abandoned_in.
_CONTRACT_DISPOSITION: Final = {
    "in_ivr": "in_queue",
    "abandoned_ivr": "abandoned",
    "abandoned_queue": "abandoned",
}


@dataclass(frozen=True, slots=True)
class AgentRef:
    id: str
    name: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


def rfc3339(moment: datetime | None, tz: tzinfo) -> str | None:
    """A UTC instant as the centre's local time with its offset (2024-11-25T14:03:05.120+07:00)."""
    if moment is None:
        return None
    return moment.astimezone(tz).isoformat(timespec="milliseconds")


def same_content(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Equal apart from revision and update time: no new revision is needed."""
    if a is None or b is None:
        return a is b
    return _lasting(a) == _lasting(b)


def _lasting(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _VOLATILE}


def empty_body(stub_id: str) -> dict[str, Any]:
    """The fields every stub has, before any writer filled them."""
    return {
        "id": stub_id,
        "revision": 0,
        "call_id": None,
        "line": "other",
        "dialed": "",
        "caller": {"number": None, "country": None},
        "language": "th",
        "priority": "normal",
        "ivr": {"selections": []},
        "queue": None,
        "received_at": None,
        "answered_at": None,
        "ended_at": None,
        "agent": None,
        "disposition": "in_queue",
        "outcome": None,
        "related_stub_id": None,
        "channel": None,
        "call": None,
        "callback": None,
        "recording": None,
        "transcript": None,
        "triage": None,
        "flags": [],
        "notes": None,
        "survey": None,
    }


def merge_call(
    existing: Mapping[str, Any] | None, call: CallSnapshot, agent: AgentRef | None, tz: tzinfo
) -> dict[str, Any]:
    """The stub after taking in the call record's current state; a record that is behind the
    stub (a stale writer: a slow reconciler, a replay) leaves it as it is."""
    if existing and _progress(existing) > _progress_of_call(call):
        return copy.deepcopy(dict(existing))
    body = copy.deepcopy(dict(existing)) if existing else empty_body(call.stub_id)
    body.update(
        {
            "call_id": call.linkedid,
            "line": call.line,
            "dialed": _dialed(call),
            "caller": {"number": call.caller_number, "country": call.caller_country},
            "language": call.language or ("th" if call.line == "domestic" else "und"),
            # The keyword triage only suggests (body["triage"]); priority changes by the IVR
            # choice or by a person, never automatically.
            "priority": higher_priority(call.priority, body.get("priority")),
            "ivr": {"selections": list(call.ivr_path)},
            "queue": call.queue,
            "received_at": rfc3339(call.received_at, tz),
            "answered_at": rfc3339(call.answered_at, tz),
            "ended_at": rfc3339(call.ended_at, tz),
            "agent": agent.as_json() if agent else None,
            "disposition": _CONTRACT_DISPOSITION.get(call.disposition, call.disposition),
            "related_stub_id": call.related_stub_id,
            "call": _call_facts(call, tz),
            "callback": _callback(call, body.get("callback")),
            "recording": _recording(call, body.get("recording")),
            "survey": {"score": call.survey_score} if call.survey_score else body.get("survey"),
        }
    )
    return body


def _progress(body: Mapping[str, Any]) -> int:
    return 3 if body.get("ended_at") else 2 if body.get("answered_at") else 1


def _progress_of_call(call: CallSnapshot) -> int:
    return 3 if call.ended_at else 2 if call.answered_at else 1


def merge_callback_attempt(
    existing: Mapping[str, Any], result: str, attempts: int
) -> dict[str, Any]:
    """The original contact's stub after one callback call (`result`: answered, no_answer...)."""
    body = copy.deepcopy(dict(existing))
    callback = dict(body.get("callback") or {"number": None, "message": None, "transcript": None})
    callback.update({"status": result, "attempts": attempts})
    body["callback"] = callback
    return body


def merge_details(existing: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """Transcript, triage, flags, recording, notes or a callback transcript added by other rooms."""
    body = copy.deepcopy(dict(existing))
    for key, value in details.items():
        if key == "callback_transcript":
            if body.get("callback"):
                body["callback"] = {**body["callback"], "transcript": value}
        else:
            body[key] = value
    return body


def higher_priority(*levels: str | None) -> str:
    known = [lvl for lvl in levels if lvl in PRIORITY_ORDER]
    return max(known, key=PRIORITY_ORDER.index) if known else "normal"


def _dialed(call: CallSnapshot) -> str:
    if call.dialed:
        return call.dialed
    dids = routing().ivr
    return {
        "domestic": dids.domestic_did,
        "international": dids.international_did,
    }.get(call.line, call.line)


def _call_facts(call: CallSnapshot, tz: tzinfo) -> dict[str, Any]:
    abandoned_in = {"abandoned_ivr": "ivr", "abandoned_queue": "queue"}.get(call.disposition)
    return {
        "queued_at": rfc3339(call.queued_at, tz),
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "hold_seconds": call.hold_seconds,
        "ringing_agents": list(call.ringing_agents),
        "transfers": list(call.transfers),
        "abandoned_in": abandoned_in,
        "fallback": call.fallback,
    }


def _callback(call: CallSnapshot, existing: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if call.disposition != "callback_requested" and not existing:
        return None
    callback = dict(existing or {"status": "requested", "attempts": 0, "transcript": None})
    # The contract wants E.164 or null; a number the caller typed oddly stays in the call log.
    callback["number"] = normalize(call.callback_number).e164 or call.caller_number
    callback["message"] = call.callback_message
    return callback


def _recording(call: CallSnapshot, existing: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if call.recording_path is None:
        return dict(existing) if existing else None
    return {**(existing or {}), "path": call.recording_path}
