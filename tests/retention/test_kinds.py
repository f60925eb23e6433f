"""retention.kinds.KINDS is the one table of the kinds of personal data: every place derived from
it knows every kind — its [retention] key in config/settings.toml and the settings read from it,
its period in the policy, its labels (command line and page), and its step in the purge. A kind
added to the table and missing anywhere fails here."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recordings.models import MediaKind
from retention.__main__ import LABELS, render
from retention.kinds import KINDS, Kind, labels, period_settings
from retention.policy import RetentionPolicy
from retention.purge import _DELETES, _MEDIA, Expired, PurgeExpired, PurgeReport
from settings import load_settings
from settings.loader import repo_root

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
PERIODS = period_settings()


def env(state_dir: Path, **values: str) -> dict[str, str]:
    return {"LINE1300_GENERAL_STATE_DIR": str(state_dir),
            **{f"LINE1300_RETENTION_{k.upper()}": v for k, v in values.items()}}


def test_the_table_has_every_kind_once_in_order() -> None:
    assert list(KINDS) == list(Kind)
    assert len(set(PERIODS.values())) == len(PERIODS)  # one key per kind
    assert {m.value for m in MediaKind} <= set(Kind)  # the media room's kinds are kinds


def test_settings_toml_sets_the_period_of_every_kind_and_no_other() -> None:
    with (repo_root() / "config" / "settings.toml").open("rb") as fh:
        section = tomllib.load(fh)["retention"]
    assert {k for k in section if k.endswith("_days")} == set(PERIODS.values())
    # Only report facts have no period of their own: they go with their stub.
    assert set(Kind) - set(PERIODS) == {Kind.REPORT_FACT}


def test_every_period_is_read_into_the_settings_and_the_policy(state_dir: Path) -> None:
    settings = load_settings(env=env(state_dir)).retention
    assert list(settings.days) == list(PERIODS)
    policy = RetentionPolicy.from_settings(settings)
    assert [f.name for f in fields(RetentionPolicy)] == [
        KINDS[k].policy_field for k in PERIODS]
    assert list(policy.as_json()) == [k.value for k in PERIODS]
    assert all(policy.of(k).days == settings.days[k] for k in PERIODS)


@pytest.mark.parametrize("kind", list(PERIODS))
def test_every_period_is_overridden_by_its_environment_variable(
    state_dir: Path, kind: Kind
) -> None:
    default = load_settings(env=env(state_dir)).retention.days
    changed = load_settings(env=env(state_dir, **{PERIODS[kind]: str(default[kind] + 1)}))
    policy = RetentionPolicy.from_settings(changed.retention)
    assert {k: policy.of(k).days for k in PERIODS} == {**default, kind: default[kind] + 1}


def test_every_kind_has_its_labels() -> None:
    assert set(LABELS) == set(Kind)
    assert all(info.noun and info.en and info.th for info in KINDS.values())
    assert set(labels()) == {k.value for k in Kind}
    report = PurgeReport(True, NOW, tuple(Expired(k, "1") for k in Kind))
    first_line = render(report).splitlines()[0]
    assert all(f"1 {KINDS[k].noun}" in first_line for k in Kind)


def test_the_page_takes_the_kinds_labels_from_the_server() -> None:
    js = (repo_root() / "web" / "static" / "recordings.js").read_text()
    hard_coded = [k.value for k in Kind if re.search(rf"\b{k.value}\s*:", js)]
    assert hard_coded == []
    assert "r.labels[" in js


def test_every_kind_has_a_purge_step(state_dir: Path) -> None:
    policy = RetentionPolicy.from_settings(load_settings(env=env(state_dir)).retention)
    purge = PurgeExpired(None, policy, None, lambda: NOW)  # type: ignore[arg-type]
    listed = set(_MEDIA) | set(purge._row_queries(NOW))
    assert listed == set(Kind)  # what is past its period is found
    assert set(_DELETES) == set(Kind)  # and removed
