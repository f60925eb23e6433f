"""Retention periods come from config/settings.toml [retention], checked at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from retention.policy import Kind, RetentionPolicy
from settings import load_settings
from settings.loader import SettingsError


def env(state_dir: Path, **values: str) -> dict[str, str]:
    return {"LINE1300_GENERAL_STATE_DIR": str(state_dir),
            **{f"LINE1300_RETENTION_{k.upper()}": v for k, v in values.items()}}


def test_every_kind_with_its_own_period_has_one(state_dir: Path) -> None:
    policy = RetentionPolicy.from_settings(load_settings(env=env(state_dir)).retention)
    assert set(policy.as_json()) == {k.value for k in Kind} - {Kind.REPORT_FACT.value}
    assert policy.of(Kind.AUDIT_ENTRY) >= max(policy.of(k) for k in Kind
                                               if k not in (Kind.REPORT_FACT, Kind.AUDIT_ENTRY))


def test_overridden_from_the_environment(state_dir: Path) -> None:
    settings = load_settings(env=env(state_dir, closed_callbacks_days="30"))
    assert RetentionPolicy.from_settings(settings.retention).of(Kind.CALLBACK_REQUEST).days == 30


def test_audit_log_may_not_be_shorter_than_the_data(state_dir: Path) -> None:
    with pytest.raises(SettingsError, match=r"audit_log_days .* shorter than call_records_days"):
        load_settings(env=env(state_dir, audit_log_days="1000"))


def test_a_period_is_at_least_a_day(state_dir: Path) -> None:
    with pytest.raises(SettingsError, match=r"\[retention\] expired_sessions_days .* >= 1"):
        load_settings(env=env(state_dir, expired_sessions_days="0"))
