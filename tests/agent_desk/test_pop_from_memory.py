"""A ring's pop is built from memory: the call as the tracker holds it and the caller's context
(previous contacts, flags) read when the call arrived. A database that is busy when the phone
rings does not hold the pop back."""

from __future__ import annotations

import asyncio
from typing import Any

from caller_flags.keys import FLAG_STORE
from case_stubs.keys import STUB_SERVICE
from screen_pop.caller_context import CallerContexts
from screen_pop.keys import POP_FEED
from storage import Database
from tests.agent_desk.calls import AmiCall
from tests.agent_desk.conftest import Desk, receive_until
from tests.agent_desk.test_pop_audit import flaky
from tests.conftest import sign_in

NUMBER = "0861234567"


async def _flag_and_one_earlier_contact(desk: Desk) -> None:
    sup = await sign_in(desk.client, "supervisor", "sup-pass")
    r = await sup.write("POST", "/api/caller-flags", json={
        "number": NUMBER, "kind": "abusive", "reason": "threatens staff",
    })
    assert r.status == 201, await r.text()
    earlier = AmiCall(caller=NUMBER)
    await desk.feed(earlier.arrives(), earlier.rings("A002"), earlier.answered_by("A002"),
                    earlier.ends("A002"))


def _contexts_on(desk: Desk, db: Any) -> CallerContexts:
    return CallerContexts(desk.app[STUB_SERVICE], desk.app[FLAG_STORE], db)


async def test_the_ring_pops_while_the_database_is_busy(desk: Desk) -> None:
    await _flag_and_one_earlier_contact(desk)
    feed = desk.app[POP_FEED]
    busy = flaky(desk.db)
    feed.contexts = _contexts_on(desk, busy)
    feed.build.db = busy
    await desk.sign_in("agent1", "agent-pass")
    ws = await desk.client.ws_connect("/ws/agent")
    call = AmiCall(caller=NUMBER)
    await desk.feed(call.arrives())  # the IVR: the caller's context is read meanwhile
    await feed.contexts.for_call(call.linkedid, "", "+66861234567")

    busy.held.clear()  # from now on every read through the pop's database waits
    await desk.tracker.on_event(call.rings("A001"))
    pop = await receive_until(ws, lambda m: m["type"] == "pop" and m["phase"] == "ringing")

    assert pop["stub"]["call_id"] == call.linkedid
    assert pop["stub"]["caller"]["number"] == "+6686****4567"
    assert [f["kind"] for f in pop["flags"]] == ["abusive"]
    assert len(pop["previous"]) == 1 and pop["previous"][0]["id"] != pop["stub_id"]
    busy.held.set()
    await ws.close()


async def test_a_context_is_read_once_per_call_and_again_for_another_number(
    database: Database,
) -> None:
    reads: list[str | None] = []

    class Stubs:
        async def view(self, *_: Any, **__: Any) -> dict[str, Any]:
            raise AssertionError("a context never reads the stub itself")

        async def previous_in(self, _s: Any, number: str | None, *_: Any, **__: Any) -> list[Any]:
            reads.append(number)
            return [{"id": f"before-{number}"}]

    class Flags:
        async def active_for(self, _s: Any, number: str | None) -> list[Any]:
            return []

    contexts = CallerContexts(Stubs(), Flags(), database)  # type: ignore[arg-type]
    contexts.prefetch("call-1", "stub-1", "+66811111111")
    contexts.prefetch("call-1", "stub-1", "+66811111111")  # the same arrival again
    first = await contexts.for_call("call-1", "stub-1", "+66811111111")
    again = await contexts.for_call("call-1", "stub-1", "+66811111111")
    other = await contexts.for_call("call-1", "stub-1", "+66822222222")  # the number changed
    withheld = await contexts.for_call("call-2", "stub-2", None)

    assert first is again and first.previous == [{"id": "before-+66811111111"}]
    assert other.previous == [{"id": "before-+66822222222"}]
    assert withheld.previous == [] and withheld.flags == []
    assert reads == ["+66811111111", "+66822222222"]
    contexts.forget("call-1")
    await contexts.for_call("call-1", "stub-1", "+66811111111")
    assert reads[-1] == "+66811111111" and len(reads) == 3
    await contexts.close()


async def test_an_unreadable_context_leaves_the_pop_without_it(database: Database) -> None:
    class Broken:
        async def previous_in(self, *_: Any, **__: Any) -> list[Any]:
            raise OSError("database unreachable")

        async def active_for(self, *_: Any) -> list[Any]:
            raise OSError("database unreachable")

    contexts = CallerContexts(Broken(), Broken(), database)  # type: ignore[arg-type]
    contexts.prefetch("call-1", "stub-1", "+66811111111")
    await asyncio.sleep(0.05)
    context = await contexts.for_call("call-1", "stub-1", "+66811111111")
    assert (context.number, context.previous, context.flags) == ("+66811111111", [], [])
    await contexts.close()
