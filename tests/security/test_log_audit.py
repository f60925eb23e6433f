"""The log audit's own detector (tests/security/log_audit.py), on the shapes it must catch and
the look-alikes (call ids, times, UUIDs) it must leave alone."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import structlog

from controller.logs import configure
from tests.security.log_audit import full_numbers


@pytest.mark.parametrize("text", [
    'caller="+66812345678"', "number=0812345678", "from +855 12 345 678 today",
    "tel 081-234-5678", '{"callback_number": "+95912345678"}', "Channel: PJSIP/0812345678@trunk",
])
def test_full_numbers_are_found(text: str) -> None:
    assert full_numbers(text), text


@pytest.mark.parametrize("text", [
    "linkedid=1732512345.12", "at 2026-11-25 07:32:33", "port 38549", "+6681****5678",
    "****5678", "stub ef210824-aa1b-46de-9d78-165712345678", "epoch 1732512345",
    "dialed=1300", "rowid=1234567890",
])
def test_ids_times_and_masked_numbers_are_not(text: str) -> None:
    assert full_numbers(text) == [], text


def test_production_logging_masks_numbers_in_every_library(tmp_path: Path) -> None:
    """controller/logs.configure: structlog lines and other libraries' records (aiohttp's access
    log with a number in the query string) reach the log file without a full number."""
    saved_structlog = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    log_file = tmp_path / "controller.jsonl"
    try:
        configure(log_file)
        structlog.get_logger("test").info("callback.requested", number="+66812345678")
        logging.getLogger("aiohttp.access").info(
            '127.0.0.1 "GET /api/caller-flags?number=%s HTTP/1.1" 200', "0899999999")
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in root.handlers:
            if handler not in saved_handlers:
                handler.close()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_structlog)
    written = log_file.read_text(encoding="utf-8")
    assert "callback.requested" in written and "caller-flags?number=" in written
    assert full_numbers(written) == []
    assert "****5678" in written and "****9999" in written
