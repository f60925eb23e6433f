"""Known Asterisk security advisories that this server's design depends on, checked against the
version that runs: the controller's AMI user has `write=originate` (callbacks), which on a
vulnerable Asterisk is enough to rewrite /etc/asterisk and run commands (CVE-2024-42365).

    python -m sandbox.advisories            # the provisioned Asterisk (sandbox or system)
    python -m sandbox.advisories 20.9.1     # any version string

Versions are read as Asterisk prints them ("22.10.1", "certified/20.7-cert2") or as Debian
packages them ("1:22.10.1+dfsg+~cs6.17.60671434-1").
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

_VERSION = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?:\.(\d+))?(?:-cert(\d+))?")


@dataclass(frozen=True)
class AsteriskVersion:
    major: int
    minor: int
    patch: int = 0
    cert: int | None = None  # certified-asterisk "18.9-cert11" -> 11

    @classmethod
    def parse(cls, text: str) -> AsteriskVersion | None:
        """None for what is not a release number (e.g. "GIT-master-1a2b3c")."""
        plain = re.sub(r"^\d+:", "", text.strip())  # Debian epoch
        plain = re.split(r"[+~]", plain, maxsplit=1)[0]  # Debian repack/revision suffixes
        match = _VERSION.search(plain)
        if match is None:
            return None
        major, minor, patch, cert = match.groups()
        certified = cert is not None or "certified" in text.lower()
        return cls(int(major), int(minor), int(patch or 0),
                   int(cert) if cert is not None else (0 if certified else None))

    @property
    def certified(self) -> bool:
        return self.cert is not None

    @property
    def key(self) -> tuple[int, int, int, int]:
        return (self.major, self.minor, self.patch, self.cert or 0)

    def __str__(self) -> str:
        if self.certified:
            return f"{self.major}.{self.minor}-cert{self.cert}"
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class Advisory:
    cve: str
    summary: str
    # First fixed release of each branch that got a fix ("18.24.2", "20.7-cert2"), and the first
    # major branch released with the fix already in (every later major is fixed too).
    fixed_in: tuple[str, ...]
    fixed_from_major: int

    def affects(self, version: AsteriskVersion) -> bool:
        fixes = [v for v in map(AsteriskVersion.parse, self.fixed_in) if v is not None]
        same_line = [f for f in fixes if f.certified == version.certified
                     and f.major == version.major
                     and (not version.certified or f.minor == version.minor)]
        if same_line:
            return version.key < same_line[0].key
        if version.certified:
            newest_fixed_line = max((f.major, f.minor) for f in fixes if f.certified)
            return (version.major, version.minor) < newest_fixed_line
        return version.major < self.fixed_from_major


ADVISORIES: tuple[Advisory, ...] = (
    Advisory(
        cve="CVE-2024-42365",
        summary="an AMI user with write=originate can change every configuration file in "
                "/etc/asterisk and so run commands (GHSA-c4cg-9275-6w44)",
        fixed_in=("18.24.2", "20.9.2", "21.4.2", "18.9-cert11", "20.7-cert2"),
        # 22.0.0 (October 2024) was released after the fix (August 2024) with it included.
        fixed_from_major=22,
    ),
)


class UnknownVersion(ValueError):
    """The version string says nothing comparable (a git build): nothing can be vouched for."""


def advisories_for(version_text: str) -> list[Advisory]:
    """The advisories that affect this Asterisk version (empty: none known)."""
    version = AsteriskVersion.parse(version_text)
    if version is None:
        raise UnknownVersion(f"cannot read an Asterisk release number in {version_text!r}")
    return [a for a in ADVISORIES if a.affects(version)]


def verdict(version_text: str) -> str:
    """One line for people: fine, or what is wrong and which release fixes it."""
    try:
        found = advisories_for(version_text)
    except UnknownVersion as exc:
        return f"unknown: {exc}; check it against {', '.join(a.cve for a in ADVISORIES)}"
    if not found:
        return f"Asterisk {version_text}: no known advisory of {len(ADVISORIES)} checked"
    return "; ".join(
        f"Asterisk {version_text} is VULNERABLE to {a.cve}: {a.summary}; upgrade to "
        f"{' / '.join(a.fixed_in)} or {a.fixed_from_major}.x" for a in found
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        version_text = args[0]
    else:
        from sandbox.provision import ensure_asterisk
        from settings import load_settings

        version_text = ensure_asterisk(load_settings().asterisk, progress=print).version
    print(verdict(version_text))
    try:
        return 1 if advisories_for(version_text) else 0
    except UnknownVersion:
        return 2


if __name__ == "__main__":
    sys.exit(main())
