"""Bring a database to the newest schema with Alembic (called at start-up and by tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.db import sync_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def main() -> None:
    import sys

    from settings import load_settings

    url = sys.argv[1] if len(sys.argv) > 1 else load_settings().database_url
    upgrade_to_head(url)
    print(f"database at newest schema: {url.split('@')[-1]}")


if __name__ == "__main__":
    main()
