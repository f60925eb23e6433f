"""First run: a supervisor account exists, its password written where only the operator reads it."""

from __future__ import annotations

import os
from pathlib import Path

import structlog
from sqlalchemy import func, select

from storage import Database
from web.accounts import Role, UserRow, create_user, new_password

log = structlog.get_logger(__name__)
PASSWORD_FILE = "initial-passwords.txt"


async def ensure_first_supervisor(db: Database, state_dir: Path) -> None:
    async with db.session() as session:
        count = (await session.execute(select(func.count()).select_from(UserRow))).scalar_one()
        if count:
            return
        password = os.environ.get("LINE1300_SUPERVISOR_PASSWORD") or new_password()
        await create_user(session, "supervisor", "Supervisor", Role.SUPERVISOR, password)
    write_initial_password(state_dir, "supervisor", password)
    log.info(
        "first supervisor account created",
        username="supervisor",
        password_file=str(state_dir / PASSWORD_FILE),
    )


def write_initial_password(state_dir: Path, username: str, password: str) -> None:
    path = state_dir / PASSWORD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(f"{username}\t{password}\n")
