""""Who would get a call in language X with priority Y right now, and why" — for supervisors and
for debugging. The same inputs the live routing uses: the IVR's routing table (which queue), the
routing definition (who belongs to it, with what penalty), the roster and agent states (who is
a member now), Asterisk's own membership and the phones' live state (who is free)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agent_routing.apply import QueuePort
from agent_routing.live import LiveBoard
from agent_routing.membership import ActualMember
from agent_routing.presence import PAUSE_REASONS, Situation
from agent_routing.situations import SituationReader, Standing
from agent_routing.skills import RoutingDefinition, SkillQueue
from ami import AmiError
from ivr.definition import IvrDefinition
from ivr.events import Line, Priority
from ivr.routing_table import RoutingTable
from shift_schedule.model import RosterError


@dataclass(frozen=True)
class Candidate:
    situation: Situation
    penalty: int
    ready: bool
    reason: Mapping[str, str]
    in_asterisk: bool | None  # None: Asterisk could not be asked

    def as_json(self) -> dict[str, object]:
        agent = self.situation.agent
        return {"agent_id": agent.id, "name": agent.name, "penalty": self.penalty,
                "status": self.situation.status, "ready": self.ready, "reason": dict(self.reason),
                "in_asterisk": self.in_asterisk}


@dataclass(frozen=True)
class QueueExplanation:
    queue: SkillQueue
    candidates: tuple[Candidate, ...]

    @property
    def members_now(self) -> list[Candidate]:
        return [c for c in self.candidates if c.situation.is_member]

    @property
    def would_ring(self) -> list[Candidate]:
        """Asterisk rings the lowest penalty among free members (rrmemory within it)."""
        ready = [c for c in self.candidates if c.ready]
        best = min((c.penalty for c in ready), default=None)
        return [c for c in ready if c.penalty == best]

    def as_json(self) -> dict[str, object]:
        return {"queue": self.queue.name, "strategy": "rrmemory, lowest penalty first",
                "would_ring": [c.situation.agent.id for c in self.would_ring],
                "members_now": len(self.members_now),
                "candidates": [c.as_json() for c in self.candidates]}


@dataclass(frozen=True)
class Explanation:
    language: str
    priority: Priority
    line: Line
    option: str
    queue_priority: int
    primary: QueueExplanation
    fallback: QueueExplanation | None
    summary: Mapping[str, str]

    def as_json(self) -> dict[str, object]:
        return {
            "language": self.language, "priority": str(self.priority), "line": str(self.line),
            "option": self.option, "queue_priority": self.queue_priority,
            "queue": self.primary.as_json(),
            "fallback": self.fallback.as_json() if self.fallback else None,
            "summary": dict(self.summary),
        }


class ExplainRouting:
    def __init__(
        self, reader: SituationReader, queues: QueuePort | None, live: LiveBoard,
        definition: RoutingDefinition, ivr: IvrDefinition, table: RoutingTable,
    ) -> None:
        self._reader = reader
        self._queues = queues
        self._live = live
        self._definition = definition
        self._ivr = ivr
        self._table = table

    async def execute(self, language: str, priority: str, line: str | None = None) -> Explanation:
        lang, prio, flow = self._check(language, priority, line)
        option = self._option_for(prio)
        route = self._table.route(flow, lang, option)
        standing = await self._reader.read()
        actual = await self._asterisk_members()
        primary = self._explain_queue(self._definition.queue(route.queue), standing, actual)
        fallback = None
        if not primary.members_now and route.fallback_queue != route.queue:
            desk = self._definition.queue(route.fallback_queue)
            fallback = self._explain_queue(desk, standing, actual)
        return Explanation(lang, prio, flow, option, self._ivr.queue_priorities[prio], primary,
                           fallback, self._summary(lang, primary, fallback))

    def _check(self, language: str, priority: str, line: str | None) -> tuple[str, Priority, Line]:
        if language not in self._definition.languages:
            raise RosterError("unknown language", language=language,
                              known=sorted(self._definition.languages))
        try:
            prio = Priority(priority)
        except ValueError:
            raise RosterError("unknown priority", priority=priority,
                              known=[str(p) for p in Priority]) from None
        default_line = "domestic" if language == self._lines_default_language() else "international"
        try:
            flow = Line(line or default_line)
        except ValueError:
            raise RosterError("unknown line", line=line,
                              known=["domestic", "international"]) from None
        if flow not in self._ivr.lines:
            raise RosterError("unknown line", line=line, known=[str(k) for k in self._ivr.lines])
        return language, prio, flow

    def _lines_default_language(self) -> str:
        return self._ivr.lines[Line.DOMESTIC].default_language

    def _option_for(self, priority: Priority) -> str:
        default = self._ivr.option(self._ivr.default_option)
        if default.priority is priority:
            return default.id
        return next((o.id for o in self._ivr.menu if o.priority is priority), default.id)

    async def _asterisk_members(self) -> list[ActualMember] | None:
        if self._queues is None:
            return None
        try:
            return await self._queues.members()
        except (AmiError, TimeoutError):
            return None

    def _explain_queue(
        self, queue: SkillQueue, standing: Standing, actual: list[ActualMember] | None,
    ) -> QueueExplanation:
        in_queue = None if actual is None else {m.spec.member_name for m in actual
                                                if m.spec.queue == queue.name}
        found = []
        for s in standing.agents:
            penalty = queue.penalty_for(s.agent.skills, s.agent.languages)
            if penalty is None:
                continue
            ready, reason = self._reason(s, penalty, queue)
            present = None if in_queue is None else s.agent.id in in_queue
            found.append(Candidate(s, penalty, ready and present is not False, reason, present))
        found.sort(key=lambda c: (not c.ready, c.penalty, c.situation.agent.id))
        return QueueExplanation(queue, tuple(found))

    def _reason(self, s: Situation, penalty: int, queue: SkillQueue) -> tuple[bool, dict[str, str]]:
        skill = ("own skill" if penalty == 0 else f"overflow, penalty {penalty}")
        if s.status == "absent":
            return False, {"th": "ลางาน/ขาดงานเวรนี้", "en": "marked absent this shift"}
        if s.status == "off_shift":
            return False, {"th": "ไม่อยู่ในเวร", "en": "not on shift now"}
        if s.status == "logged_out":
            return False, {"th": "ยังไม่เข้าระบบโทรศัพท์", "en": "on shift but logged out of the phone"}
        if s.pause_reason:
            label = PAUSE_REASONS.get(s.pause_reason, {"th": s.pause_reason, "en": s.pause_reason})
            return False, {"th": f"พักสาย ({label['th']})", "en": f"paused ({label['en']})"}
        phone = self._live.of(s.agent.id)
        if phone is not None and phone.state != "idle":
            state = phone.state.replace("_", " ")
            return False, {"th": f"ไม่ว่าง ({state})", "en": f"busy ({state})"}
        return True, {"th": f"ว่าง พูดภาษา {queue.language} ({skill})",
                      "en": f"free, speaks {queue.language} ({skill})"}

    def _summary(
        self, language: str, primary: QueueExplanation, fallback: QueueExplanation | None,
    ) -> dict[str, str]:
        lang = self._definition.languages[language].name_en
        if primary.would_ring:
            ids = ", ".join(c.situation.agent.id for c in primary.would_ring)
            return {"th": f"คิว {primary.queue.name}: ระบบจะโทรหา {ids}",
                    "en": f"Queue {primary.queue.name} would ring {ids}"}
        if primary.members_now:
            return {"th": f"คิว {primary.queue.name}: ทุกคนไม่ว่าง ผู้โทรจะรอในคิว",
                    "en": f"Queue {primary.queue.name}: every member is busy; the caller waits"}
        target = fallback.queue.name if fallback else primary.queue.name
        return {"th": f"ไม่มีผู้พูดภาษา{lang}ในเวร: ระบบเสนอ {target} หรือการโทรกลับ",
                "en": f"Nobody who speaks {lang} is on shift: "
                      f"the IVR offers {target} or a callback"}
