"""The PDPA log audit of a whole test run: no full caller number in any log line.

Registered from tests/conftest.py. For the run it sets logging up the way production does
(controller/logs.py: the number-masking safety net on structlog lines and on standard-library
records), tees every structlog line and every standard-library record (aiohttp, SQLAlchemy,
asyncio...) to files of the session, and at the end reads those files back: a line holding a
full phone number fails the run.

It also lists the lines that held a full number *before* the safety net masked it (a logger call
that forgot `privacy.mask_number`, a URL with a number in its query string): reported with the
event or logger name, for the room to fix.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from controller.logs import MaskNumbersFilter, processors
from privacy import mask_number

# A caller number as people and carriers write it: "+" and 8-15 digits, or a national number
# starting with 0; spaces or dashes may separate the digits. Linkedids (1732512345.12), epoch
# seconds, dates, ports and UUID parts do not start with "+" or "0" as a whole token.
FULL_NUMBER = re.compile(r"(?<![\w.:+-])(?:\+\d|0\d)(?:[ -]?\d){7,14}(?![\w.:-])")
MIN_DIGITS = 9
FOLDER_ENV = "LINE1300_LOG_AUDIT_DIR"

_state: dict[str, Any] = {}


def full_numbers(text: str) -> list[str]:
    """The full phone numbers in `text` (at least 9 digits once separators are dropped)."""
    found = []
    for match in FULL_NUMBER.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) >= MIN_DIGITS:
            found.append(match.group(0))
    return found


def _before_safety_net(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    if full_numbers(json.dumps(event, default=str, ensure_ascii=False)):
        _state["unmasked_events"][str(event.get("event"))] += 1
    return event


def _tee(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    _state["structlog_file"].write(json.dumps(event, default=str, ensure_ascii=False) + "\n")
    return event


class _UnmaskedRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if full_numbers(record.getMessage()):
            _state["unmasked_events"][f"{record.name} (standard logging)"] += 1
        return True


def _worker(config: pytest.Config) -> str | None:
    """The pytest-xdist worker id ("gw0"...), None in the main process."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    return workerinput.get("workerid")


def pytest_configure(config: pytest.Config) -> None:
    if "structlog_file" in _state:
        return
    worker = _worker(config)
    if worker is None:
        # A folder per run (several engineers may run the suite at once), handed down to the
        # xdist workers, which are started after this and inherit the environment.
        os.environ[FOLDER_ENV] = tempfile.mkdtemp(prefix="line1300-log-audit-")
    folder = Path(os.environ[FOLDER_ENV])
    name = worker or "main"
    structlog_path, stdlib_path = folder / f"{name}.jsonl", folder / f"{name}-stdlib.log"
    _state.update(
        folder=folder, name=name, worker=worker is not None,
        structlog_file=structlog_path.open("w", encoding="utf-8", buffering=1),
        unmasked_events=Counter(),
    )
    structlog.configure(
        processors=processors(
            structlog.dev.ConsoleRenderer(colors=False),
            before_mask=[_before_safety_net], after_mask=[_tee],
        ),
        cache_logger_on_first_use=False,
    )
    handler = logging.FileHandler(stdlib_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.addFilter(_UnmaskedRecords())  # before the safety net, as controller/logs sets it
    handler.addFilter(MaskNumbersFilter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, logging.INFO))
    _state["handler"] = handler


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if "structlog_file" not in _state:
        return
    _state["structlog_file"].flush()
    _state["handler"].flush()
    folder: Path = _state["folder"]
    unmasked: Counter[str] = _state["unmasked_events"]
    (folder / f"{_state['name']}-unmasked.json").write_text(json.dumps(unmasked))
    if _state["worker"]:
        return  # the main process reads every worker's files once they have all finished
    hits, lines = [], 0
    for path in sorted([*folder.glob("*.jsonl"), *folder.glob("*-stdlib.log")]):
        hits += _scan(path)
        lines += sum(1 for _ in path.open(encoding="utf-8", errors="replace"))
    for path in folder.glob("*-unmasked.json"):
        if path.name != f"{_state['name']}-unmasked.json":
            unmasked.update(json.loads(path.read_text()))
    _report(session, folder, lines, hits, unmasked)
    if hits and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _report(session: pytest.Session, folder: Path, lines: int, hits: list[str],
            unmasked: Counter[str]) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
    write = reporter.write_line if reporter else print
    write(f"PDPA log audit: {lines} log lines, {len(hits)} with a full caller number ({folder})")
    if unmasked:
        write("  masked only by the safety net (log calls to fix): "
              + ", ".join(f"{name} x{n}" for name, n in unmasked.most_common(10)))
    for where in hits[:20]:
        write(f"  {where}")


def _scan(path: Path) -> list[str]:
    hits = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            found = full_numbers(line)
            if found:
                shown = ", ".join(mask_number(n) for n in found)
                hits.append(f"{path.name}:{number}: {shown}")
    return hits
