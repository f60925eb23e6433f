"""Helpers that keep callers' personal data out of logs.

Callers to a crisis line are vulnerable people; a log line is copied to far
more places (terminals, log shippers, bug reports) than the call database, so
phone numbers are masked before they are ever handed to a logger.
"""

from __future__ import annotations

__all__ = ["mask_number"]

_TAIL_DIGITS = 4
_MAX_PREFIX_DIGITS = 4
# However short the number, at least this many digits stay hidden, so a short
# national number is not effectively shown in full.
_MIN_HIDDEN_DIGITS = 3
_MASK = "****"
_MAX_NON_NUMBER_LEN = 32


def mask_number(number: str | None) -> str:
    """Mask a phone number for logging.

    International numbers keep ``+`` and up to four leading digits (country
    and operator/area code, useful when debugging trunk routing) plus the last
    four digits: ``"+66812345678"`` -> ``"+6681****5678"``. National numbers
    keep only the last four digits: ``"0812345678"`` -> ``"****5678"``.
    At least three digits are always hidden, and the mask has a fixed width so
    it does not leak the number's length. Separators (spaces, dashes) are
    dropped. Values without any digit (``"<unknown>"``, ``"anonymous"``) are
    not numbers and are returned as they are (cut to 32 characters).
    """
    if not number:
        return ""
    text = number.strip()
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if not digits:
        return text[:_MAX_NON_NUMBER_LEN]
    international = text.startswith("+")
    tail_len = max(0, min(_TAIL_DIGITS, len(digits) - _MIN_HIDDEN_DIGITS))
    prefix_len = 0
    if international:
        room = len(digits) - tail_len - _MIN_HIDDEN_DIGITS
        prefix_len = max(0, min(_MAX_PREFIX_DIGITS, room))
    prefix = ("+" if international else "") + digits[:prefix_len]
    tail = digits[len(digits) - tail_len :] if tail_len else ""
    return f"{prefix}{_MASK}{tail}"
