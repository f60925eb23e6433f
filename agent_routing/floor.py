"""The floor now: who is on shift, in what state and for how long, and what is wrong with the
coverage (roster warnings of the running shifts plus live ones). Also the wallboard's JSON."""

from __future__ import annotations

from datetime import datetime

from agent_routing.callback_store import CallbackStore
from agent_routing.live import LiveBoard
from agent_routing.presence import PAUSE_REASONS, Situation
from agent_routing.situations import SituationReader, Standing
from agent_routing.skills import RoutingDefinition
from shift_schedule.coverage import CoverageWarning, roster_warnings
from storage import Database


class ReadFloor:
    def __init__(self, db: Database, reader: SituationReader, live: LiveBoard,
                 definition: RoutingDefinition, min_counsellors: int) -> None:
        self._db = db
        self._reader = reader
        self._live = live
        self._definition = definition
        self._min_counsellors = min_counsellors

    async def execute(self) -> dict[str, object]:
        standing = await self._reader.read()
        warnings = await self.warnings(standing)
        shown = [s for s in standing.agents if s.instance is not None or s.absence or s.logged_in]
        return {
            "now": standing.now.isoformat(),
            "shifts": [{"shift_id": i.shift.id, "day": i.day.isoformat(),
                        "start": i.start.isoformat(), "end": i.end.isoformat()}
                       for i in standing.snapshot.current_instances(standing.now)],
            "agents": [self._agent(s, standing.now) for s in shown],
            "warnings": [w.as_json() for w in warnings],
            "pause_reasons": {k: dict(v) for k, v in PAUSE_REASONS.items()},
        }

    async def agent(self, agent_id: str) -> dict[str, object] | None:
        """One agent's state (the agent page's status line)."""
        standing = await self._reader.read()
        situation = standing.of(agent_id)
        return self._agent(situation, standing.now) if situation else None

    async def warnings(self, standing: Standing | None = None) -> list[CoverageWarning]:
        standing = standing or await self._reader.read()
        found = [
            w for i in standing.snapshot.current_instances(standing.now)
            for w in roster_warnings(standing.snapshot, i, self._definition, self._min_counsellors)
        ]
        return found + await self._callback_warnings(standing)

    def _agent(self, s: Situation, now: datetime) -> dict[str, object]:
        state, since = s.status, s.since
        phone = self._live.of(s.agent.id)
        if s.is_member and phone is not None and phone.state != "idle":
            state, since = phone.state, phone.since
        return {
            **s.agent.as_json(), "state": state, "pause_reason": s.pause_reason,
            "since": since.isoformat() if since else None,
            "seconds_in_state": int((now - since).total_seconds()) if since else None,
            "shift_id": s.instance.shift.id if s.instance else None, "in_queues": s.is_member,
        }

    async def _callback_warnings(self, standing: Standing) -> list[CoverageWarning]:
        async with self._db.session() as session:
            waiting = await CallbackStore(session).waiting_by_language()
        on_shift = {lang for s in standing.agents if s.instance is not None
                    for lang in s.agent.languages}
        return [self._no_speaker(lang, count) for lang, count in sorted(waiting.items())
                if lang not in on_shift]

    def _no_speaker(self, language: str, count: int) -> CoverageWarning:
        lang = self._definition.languages.get(language)
        name_en = lang.name_en if lang else language
        return CoverageWarning(
            "callbacks_without_speaker", "critical",
            {"th": f"มีคำขอโทรกลับภาษา {name_en} {count} รายการ แต่ไม่มีผู้พูดภาษานี้ในเวร",
             "en": f"{count} callback(s) waiting in {name_en} and nobody on shift speaks it"},
            details={"language": language, "waiting": count},
        )
