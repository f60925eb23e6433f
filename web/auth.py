"""Sessions, CSRF and roles, enforced on every endpoint.

Every handler is either decorated with `@require(...)` or listed in PUBLIC: the role test in
tests/web walks the router and fails on a route that is neither, so a new endpoint cannot be
left open by accident.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from aiohttp import web
from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from web.accounts import Role, User, find_user
from web.keys import DATABASE

COOKIE = "line1300_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_LIFETIME = timedelta(hours=12)
USER_KEY: web.RequestKey[User] = web.RequestKey("line1300.user", User)
CSRF_KEY: web.RequestKey[str] = web.RequestKey("line1300.csrf", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC: set[str] = set()


class SessionRow(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def public(handler: Handler) -> Handler:
    """Mark a handler as reachable without signing in (login page, static assets, health)."""
    PUBLIC.add(handler.__qualname__)
    handler.line1300_roles = None  # type: ignore[attr-defined]
    return handler


def require(*roles: Role) -> Callable[[Handler], Handler]:
    """Allow the handler to signed-in users with one of `roles` (none given: any role)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = request.get(USER_KEY)
            if user is None:
                raise _json_error(web.HTTPUnauthorized, "sign in first")
            if roles and user.role not in roles:
                raise _json_error(web.HTTPForbidden, "your role may not do this")
            return await handler(request)

        guarded.line1300_roles = roles  # type: ignore[attr-defined]
        return guarded

    return decorate


def current_user(request: web.Request) -> User:
    user: User | None = request.get(USER_KEY)
    if user is None:
        raise _json_error(web.HTTPUnauthorized, "sign in first")
    return user


def csrf_token(request: web.Request) -> str:
    return str(request.get(CSRF_KEY, ""))


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if token:
        await _load_session(request, token)
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.get(USER_KEY) is not None:
        _check_csrf(request)
    return await handler(request)


async def start_session(request: web.Request, response: web.StreamResponse, user: User) -> str:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    async with request.app[DATABASE].session() as session:
        session.add(
            SessionRow(
                token_hash=_hash(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        max_age=int(SESSION_LIFETIME.total_seconds()),
        secure=request.secure,
    )
    return csrf


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        async with request.app[DATABASE].session() as session:
            await session.execute(delete(SessionRow).where(SessionRow.token_hash == _hash(token)))
    response.del_cookie(COOKIE)


async def _load_session(request: web.Request, token: str) -> None:
    async with request.app[DATABASE].session() as session:
        row = (
            await session.execute(select(SessionRow).where(SessionRow.token_hash == _hash(token)))
        ).scalar_one_or_none()
        if row is None or _aware(row.expires_at) < datetime.now(UTC):
            return
        user = await find_user(session, row.user_id)
    if user is not None:
        request[USER_KEY] = user
        request[CSRF_KEY] = row.csrf_token


def _check_csrf(request: web.Request) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent, csrf_token(request)):
        raise _json_error(web.HTTPForbidden, f"missing or wrong {CSRF_HEADER} header")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _json_error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=web.json_response({"error": message}).text, content_type="application/json")


def json_error(kind: type[web.HTTPException], message: str, **details: Any) -> web.HTTPException:
    """A 4xx with a JSON body {"error": message, ...details} — the one shape all APIs use."""
    body = {"error": message, **details}
    return kind(text=web.json_response(body).text, content_type="application/json")
