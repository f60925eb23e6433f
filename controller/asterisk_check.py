"""Which Asterisk the controller is talking to, checked against known security advisories at
every AMI login (sandbox/advisories.py). A production Asterisk run by someone else can be
downgraded or swapped behind the controller's back; the log says so loudly each time."""

from __future__ import annotations

import structlog

from ami import AmiError, AmiLink, LinkState, StateChange
from sandbox.advisories import UnknownVersion, advisories_for, verdict

log = structlog.get_logger(__name__)


class AsteriskVersionCheck:
    def __init__(self, link: AmiLink) -> None:
        self._link = link
        self.version: str | None = None
        self.vulnerable_to: tuple[str, ...] = ()

    async def on_state(self, change: StateChange) -> None:
        if change.state is not LinkState.CONNECTED:
            return
        try:
            answer = await self._link.send({"Action": "CoreSettings"})
        except AmiError as exc:
            log.warning("asterisk.version_unread", error=str(exc))
            return
        self.check(answer.get("AsteriskVersion") or "")

    def check(self, version: str) -> None:
        self.version = version
        try:
            found = advisories_for(version)
        except UnknownVersion:
            log.warning("asterisk.version_unknown", version=version, advice=verdict(version))
            return
        self.vulnerable_to = tuple(a.cve for a in found)
        if found:
            log.error(
                "asterisk.vulnerable",
                version=version,
                cves=list(self.vulnerable_to),
                advice=verdict(version),
            )
        else:
            log.info("asterisk.version_checked", version=version)
