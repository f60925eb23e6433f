"""Structured logs (structlog): JSON lines to a file, readable lines on the console.

Call handlers bind the call's linkedid with `bind_call(linkedid)`; every line they log carries it.
The last processor masks anything shaped like a phone number: a full caller number must never
reach a log, even when a handler forgets to mask it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

import structlog
from structlog.typing import Processor

from privacy import mask_number

# 7+ digits, optionally after "+"; not part of a dotted id such as Asterisk's "1732512345.12".
_NUMBER = re.compile(r"(?<![\w.])\+?\d{7,16}(?![\w.])")


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return _NUMBER.sub(lambda m: mask_number(m.group(0)), value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask(v) for v in value)
    return value


def mask_numbers(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event.items():
        event[key] = _mask(value)
    return event


class MaskNumbersFilter(logging.Filter):
    """The same safety net for the records of other libraries, which never pass through
    structlog: aiohttp's access log holds query strings (/api/caller-flags?number=...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _mask(record.getMessage())
        record.args = None
        return True


def configure(log_file: Path | None = None, level: int = logging.INFO) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.addFilter(MaskNumbersFilter())
    logging.basicConfig(level=level, handlers=handlers, format="%(message)s", force=True)
    structlog.configure(
        processors=processors(structlog.processors.JSONRenderer(ensure_ascii=False)),
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )


def processors(
    renderer: Processor,
    *,
    before_mask: Sequence[Processor] = (),
    after_mask: Sequence[Processor] = (),
) -> list[Processor]:
    """The chain every structlog line goes through, the number mask last before rendering.
    The PDPA log audit of the test suite (tests/security/log_audit.py) runs this same chain,
    looking at each line before and after the mask."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        *before_mask,
        mask_numbers,
        *after_mask,
        renderer,
    ]


def bind_call(linkedid: str) -> None:
    """Bind the call's linkedid to every log line of the current task."""
    structlog.contextvars.bind_contextvars(linkedid=linkedid)
