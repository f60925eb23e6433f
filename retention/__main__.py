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

from retention.policy import Kind
from retention.purge import PurgeReport

LABELS: Final = {
    Kind.CALL_RECORDING: "call recording(s)",
    Kind.CALLBACK_MESSAGE: "callback message(s)",
    Kind.CALL_RECORD: "call record(s)",
    Kind.CASE_STUB: "case stub(s)",
    Kind.REPORT_FACT: "report fact(s)",
    Kind.STUB_OUTBOX: "delivered outbox row(s)",
    Kind.CALLBACK_REQUEST: "callback request(s)",
    Kind.CALLER_FLAG: "caller flag(s)",
    Kind.WEB_SESSION: "expired web session(s)",
    Kind.AGENT_ACTIVITY: "agent activity interval(s)",
    Kind.AUDIT_ENTRY: "audit log entry(ies)",
}


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
    from retention.files import MediaFiles
    from retention.policy import RetentionPolicy
    from retention.purge import PurgeExpired
    from settings import load_settings
    from storage import Database, upgrade_to_head

    settings = load_settings()
    upgrade_to_head(settings.database_url)
    db = Database(settings.database_url)
    try:
        purge = PurgeExpired(
            db, RetentionPolicy.from_settings(settings.retention),
            MediaFiles(AsteriskPaths.from_settings(settings), settings.recordings.archive_dir),
            lambda: datetime.now(UTC),
        )
        return await purge.execute(dry_run=dry_run, actor="retention-cli")
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
