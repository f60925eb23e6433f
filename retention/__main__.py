"""`python -m retention purge [--dry-run]`: remove what is past its retention period now.

A dry run lists exactly what a real run would remove and removes nothing. Only ids are printed,
never a caller's number.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from retention.kinds import KINDS, Kind
from retention.purge import PurgeReport

# Counted per kind: "3 call recording(s)" (the nouns: retention.kinds.KINDS).
LABELS: Final = {kind: info.noun for kind, info in KINDS.items()}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m retention",
                                     description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    purge = sub.add_parser("purge", help="remove what is past its retention period")
    purge.add_argument("--dry-run", action="store_true", help="list it, remove nothing")
    return parser


def render(report: PurgeReport) -> str:
    verb = "would remove" if report.dry_run else "removed"
    counts = report.removed_counts()
    lines = [f"{'dry run: ' if report.dry_run else ''}{verb} "
             + ", ".join(f"{n} {LABELS[Kind(kind)]}" for kind, n in counts.items())
             + ("" if report.dry_run else f"; {report.files_removed} file(s) deleted")]
    held_back = {kind: n - counts[kind] for kind, n in report.counts().items() if n > counts[kind]}
    if held_back:
        lines.append("held back since listed (kept): "
                     + ", ".join(f"{n} {LABELS[Kind(kind)]}" for kind, n in held_back.items()))
    for kind, n in report.counts().items():
        if n:
            lines.append(f"  {kind}: {' '.join(report.ids(kind))}")
    return "\n".join(lines)


async def _purge(dry_run: bool) -> PurgeReport:
    from recordings.asterisk_paths import AsteriskPaths
    from retention.install import build_retention_room
    from settings import load_settings
    from storage import Database, upgrade_to_head

    settings = load_settings()
    upgrade_to_head(settings.database_url)
    db = Database(settings.database_url)
    try:
        room = build_retention_room(settings, db, AsteriskPaths.from_settings(settings),
                                    lambda: datetime.now(UTC))
        return await room.services.purge.execute(dry_run=dry_run, actor="retention-cli")
    finally:
        await db.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from controller.logs import configure

    configure()
    report = asyncio.run(_purge(args.dry_run))
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
