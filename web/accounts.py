"""User accounts: agents and supervisors sign in with a hashed password (argon2)."""

from __future__ import annotations

import asyncio
import enum
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import Boolean, DateTime, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base

_hasher = PasswordHasher()


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    agent_id: str | None

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(row.id, row.username, row.display_name, Role(row.role), row.agent_id)


async def create_user(
    session: AsyncSession,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    agent_id: str | None = None,
) -> User:
    row = UserRow(
        username=username,
        display_name=display_name,
        role=role.value,
        password_hash=await _hash(password),
        agent_id=agent_id,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return User.from_row(row)


async def authenticate(session: AsyncSession, username: str, password: str) -> User | None:
    row = (
        await session.execute(select(UserRow).where(UserRow.username == username))
    ).scalar_one_or_none()
    if row is None or not row.active:
        await _hash(password)  # same work either way, so timing does not reveal user names
        return None
    try:
        await asyncio.to_thread(_hasher.verify, row.password_hash, password)
    except VerificationError:
        return None
    return User.from_row(row)


async def _hash(password: str) -> str:
    # An argon2 hash is ~100 ms of CPU (64 MiB, by design): on the event loop it would hold up
    # every AMI event and screen-pop for that long at each sign-in.
    return await asyncio.to_thread(_hasher.hash, password)


async def find_user(session: AsyncSession, user_id: int) -> User | None:
    row = await session.get(UserRow, user_id)
    return User.from_row(row) if row is not None and row.active else None


async def find_by_username(session: AsyncSession, username: str) -> User | None:
    row = (
        await session.execute(select(UserRow).where(UserRow.username == username))
    ).scalar_one_or_none()
    return User.from_row(row) if row is not None else None


def new_password() -> str:
    return secrets.token_urlsafe(12)
