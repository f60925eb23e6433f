"""The minimal dialplan: every DID straight into the default queue, no menu.

The sandbox's own tests use it to check the telephony layer (trunk, DIDs, queues, AMI, call
records) without depending on the IVR; the server renders the real IVR (dialplans.extensions).
"""

from __future__ import annotations

from agent_routing.skills import routing

from .dids import did_aliases
from .params import RenderParams
from .templating import fill


def minimal_extensions(params: RenderParams) -> str:
    policy = routing().ivr
    lines = [_did_line(alias, "domestic") for alias in did_aliases(policy.domestic_did)]
    lines += [_did_line(alias, "international") for alias in did_aliases(policy.international_did)]
    return fill(
        "minimal-extensions.conf",
        {"default_queue": policy.default_queue, "did_extensions": "\n".join(lines)},
    )


def _did_line(did: str, line: str) -> str:
    return f"exten => {did},1,Goto(line1300-entry,{line},1)"
