"""The forms in which a carrier may deliver one of the line's DIDs.

Carriers differ: the international number arrives as E.164 (+66991301300), without the plus
(66991301300) or in national form (0991301300). Every form must land on the same line.
"""

from __future__ import annotations

THAI_COUNTRY_CODE = "66"


def did_aliases(did: str) -> tuple[str, ...]:
    """``did`` and the other forms of the same number, first the one given."""
    digits = did.removeprefix("+")
    if not did.startswith("+") or not digits.startswith(THAI_COUNTRY_CODE):
        return (did,)
    national = "0" + digits.removeprefix(THAI_COUNTRY_CODE)
    return tuple(dict.fromkeys([did, digits, national]))


def normalise_did(number: str, known: tuple[str, ...]) -> str | None:
    """The DID among ``known`` that ``number`` is a form of, or None."""
    for did in known:
        if number in did_aliases(did):
            return did
    return None
