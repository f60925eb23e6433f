"""The server's database: engine, declarative base, migrations, audit trail."""

from storage.base import Base
from storage.db import Database, sync_url
from storage.migrate import upgrade_to_head

__all__ = ["Base", "Database", "sync_url", "upgrade_to_head"]
