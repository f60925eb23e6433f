"""Exceptions raised by the AMI link.

Each failure of an action says whether Asterisk may have executed it, because
that decides whether a caller may safely re-issue it (an Originate re-issued
blindly can ring a counsellor twice, or call a caller back twice).
"""

from __future__ import annotations

__all__ = [
    "ActionLost",
    "ActionTimeout",
    "AmiError",
    "LinkClosed",
    "LoginFailed",
]


class AmiError(Exception):
    """Base class of every error raised by the ``ami`` package."""


class ActionTimeout(AmiError, TimeoutError):
    """No complete answer to an action arrived in time.

    ``sent`` is False when the action never left this process (the link was
    not logged in during the whole timeout): re-issuing it is then safe. When
    ``sent`` is True, Asterisk may or may not have executed it.
    """

    def __init__(self, action: str, action_id: str, timeout: float, *, sent: bool) -> None:
        where = "after it was sent" if sent else "while waiting for a logged-in link"
        super().__init__(f"AMI action {action} ({action_id}) timed out after {timeout:g}s {where}")
        self.action = action
        self.action_id = action_id
        self.timeout = timeout
        self.sent = sent


class ActionLost(AmiError, ConnectionError):
    """The connection dropped while an action was in flight.

    The link never re-sends such an action itself: Asterisk may already have
    executed it. ``idempotent`` tells the caller whether re-issuing is safe.
    """

    def __init__(self, action: str, action_id: str, *, idempotent: bool, reason: str) -> None:
        super().__init__(
            f"AMI action {action} ({action_id}) lost: connection dropped ({reason}); "
            + ("safe to re-issue" if idempotent else "not re-sent, it may have been executed")
        )
        self.action = action
        self.action_id = action_id
        self.idempotent = idempotent
        self.reason = reason


class LinkClosed(AmiError):
    """The link was closed by its owner; pending and new actions fail with this."""


class LoginFailed(AmiError):
    """Asterisk refused the Login action (wrong username/secret or ACL)."""
