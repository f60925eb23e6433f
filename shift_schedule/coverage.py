"""Coverage warnings a roster alone can tell: a shift below its staffing requirement, or with
fewer counsellors than the centre's minimum. (Warnings that need live state, such as callbacks
waiting in a language nobody on shift speaks, are added by agent_routing.coverage.)"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from agent_routing.skills import RoutingDefinition
from shift_schedule.model import OnShift, Requirement, ShiftInstance
from shift_schedule.roster import RosterSnapshot


@dataclass(frozen=True)
class CoverageWarning:
    kind: str
    severity: str  # "critical" | "warning" | "info"
    message: Mapping[str, str]  # {"th": ..., "en": ...}
    shift_id: str | None = None
    day: date | None = None
    details: Mapping[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind, "severity": self.severity, "message": dict(self.message),
            "shift_id": self.shift_id, "day": self.day.isoformat() if self.day else None,
            **dict(self.details),
        }


def roster_warnings(
    snapshot: RosterSnapshot, instance: ShiftInstance, definition: RoutingDefinition,
    min_counsellors: int,
) -> list[CoverageWarning]:
    staff = snapshot.staff(instance)
    warnings = [
        w for r in snapshot.requirements if r.shift_id == instance.shift.id
        if (w := _requirement_warning(r, staff, instance, definition)) is not None
    ]
    counsellors = _counsellor_warning(staff, instance, definition, min_counsellors)
    return warnings + ([counsellors] if counsellors else [])


def _requirement_warning(
    req: Requirement, staff: list[OnShift], instance: ShiftInstance, definition: RoutingDefinition,
) -> CoverageWarning | None:
    have = sum(1 for o in staff
               if req.skill in o.agent.skills and req.language in o.agent.languages)
    if have >= req.count:
        return None
    skill, lang = definition.skills[req.skill], definition.languages[req.language]
    if have == 0:
        message = {"th": f"ไม่มี{skill.name_th} ภาษา {lang.name_en} ({lang.name_native}) ในเวรนี้",
                   "en": f"No {lang.name_en}-speaking {skill.name_en.lower()} on this shift"}
    else:
        message = {"th": f"{skill.name_th} ภาษา {lang.name_en} {have} จาก {req.count} คน",
                   "en": f"{have} of {req.count} {lang.name_en}-speaking "
                         f"{skill.name_en.lower()}s on this shift"}
    return CoverageWarning(
        "understaffed", "critical" if have == 0 else "warning", message, instance.shift.id,
        instance.day, {"skill": req.skill, "language": req.language, "required": req.count,
                       "rostered": have},
    )


def _counsellor_warning(
    staff: list[OnShift], instance: ShiftInstance, definition: RoutingDefinition, minimum: int,
) -> CoverageWarning | None:
    # "Counsellors" are whoever answers the default queue first: the definition decides.
    queue = definition.queue(definition.ivr.default_queue)
    have = sum(1 for o in staff if queue.penalty_for(o.agent.skills, o.agent.languages) == 0)
    if have >= minimum:
        return None
    return CoverageWarning(
        "few_counsellors", "critical" if have == 0 else "warning",
        {"th": f"ผู้ให้คำปรึกษา {have} คน น้อยกว่าขั้นต่ำ {minimum} คน",
         "en": f"{have} counsellors on this shift, fewer than the minimum of {minimum}"},
        instance.shift.id, instance.day,
        {"queue": queue.name, "rostered": have, "minimum": minimum},
    )
