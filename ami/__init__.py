"""The AMI link: one self-healing Asterisk Manager Interface connection.

Typical use::

    link = AmiLink("127.0.0.1", 5038, "controller", secret)
    link.on_state(roster.on_link_state)
    link.subscribe(tracker.on_event, "Newchannel", "Hangup", "Queue*")
    await link.start()
    await link.wait_connected(timeout=10)
    answer = await link.send(Action("QueueStatus", {"Queue": "1300"}))
"""

from .backoff import Backoff
from .dispatch import EventHandler, Mailbox, SubscriberStats, Subscription
from .errors import ActionLost, ActionTimeout, AmiError, LinkClosed, LoginFailed
from .frames import (
    NON_IDEMPOTENT_ACTIONS,
    Action,
    Event,
    Frame,
    FrameParser,
    HeaderValue,
    Response,
    new_action_id,
)
from .link import AmiLink, LinkState, LinkStats, StateChange, StateHandler
from .recording import (
    Chunk,
    StreamRecorder,
    load_recording,
    replay_into_parser,
    replay_to_writer,
    save_recording,
)

__all__ = [
    "NON_IDEMPOTENT_ACTIONS",
    "Action",
    "ActionLost",
    "ActionTimeout",
    "AmiError",
    "AmiLink",
    "Backoff",
    "Chunk",
    "Event",
    "EventHandler",
    "Frame",
    "FrameParser",
    "HeaderValue",
    "LinkClosed",
    "LinkState",
    "LinkStats",
    "LoginFailed",
    "Mailbox",
    "Response",
    "StateChange",
    "StateHandler",
    "StreamRecorder",
    "SubscriberStats",
    "Subscription",
    "load_recording",
    "new_action_id",
    "replay_into_parser",
    "replay_to_writer",
    "save_recording",
]
