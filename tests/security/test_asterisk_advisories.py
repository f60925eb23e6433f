"""The Asterisk version check (sandbox/advisories.py) against CVE-2024-42365's fixed releases:
18.24.2, 20.9.2, 21.4.2, certified 18.9-cert11 and 20.7-cert2; every 22.x was released fixed."""

from __future__ import annotations

import pytest

from sandbox.advisories import AsteriskVersion, UnknownVersion, advisories_for, verdict


@pytest.mark.parametrize("text", [
    "18.24.1", "18.0.0", "19.8.0", "20.9.1", "20.0.0", "21.4.1", "17.9.4", "16.30.0",
    "certified/18.9-cert10", "18.9-cert1", "certified/20.7-cert1", "certified/16.8-cert14",
    "1:20.6.0~dfsg+~cs6.13.40431413-2",
])
def test_vulnerable_releases_are_named(text: str) -> None:
    assert [a.cve for a in advisories_for(text)] == ["CVE-2024-42365"]
    assert "VULNERABLE" in verdict(text)


@pytest.mark.parametrize("text", [
    "18.24.2", "18.26.4", "20.9.2", "20.14.1", "21.4.2", "21.9.0", "22.0.0", "22.10.1",
    "23.1.0", "certified/18.9-cert11", "certified-20.7-cert2", "20.7-cert5",
    "1:22.10.1+dfsg+~cs6.17.60671434-1", "Asterisk 22.10.1",
])
def test_fixed_releases_pass(text: str) -> None:
    assert advisories_for(text) == []


def test_debian_package_versions_read_as_asterisk_prints_them() -> None:
    assert AsteriskVersion.parse("1:22.10.1+dfsg+~cs6.17.60671434-1") == AsteriskVersion(22, 10, 1)
    assert AsteriskVersion.parse("certified/20.7-cert2") == AsteriskVersion(20, 7, 0, 2)


def test_a_git_build_cannot_be_vouched_for() -> None:
    with pytest.raises(UnknownVersion):
        advisories_for("GIT-master-1a2b3c4")
    assert verdict("GIT-master-1a2b3c4").startswith("unknown")
