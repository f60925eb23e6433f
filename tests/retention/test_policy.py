"""Retention periods come from config/settings.toml [retention], checked at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from retention.policy import Kind, RetentionPolicy
from settings import load_settings
from settings.loader import SettingsError, repo_root


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


@pytest.mark.parametrize(("old", "new"), [
    ("retention_recordings_days", "call_recordings_days"),
    ("retention_callback_messages_days", "callback_messages_days"),
    ("retention_call_records_days", "call_records_days"),
    ("purge_time", "purge_time"),
])
def test_an_old_recordings_key_in_the_environment_names_its_new_place(
    state_dir: Path, old: str, new: str
) -> None:
    variables = {**env(state_dir), f"LINE1300_RECORDINGS_{old.upper()}": "30"}
    with pytest.raises(SettingsError, match=(
        rf"LINE1300_RECORDINGS_{old.upper()}: \[recordings\] {old} moved to "
        rf"\[retention\] {new} \(environment variable LINE1300_RETENTION_{new.upper()}\)"
    )):
        load_settings(env=variables)


def test_an_old_recordings_key_in_the_file_names_its_new_place(
    state_dir: Path, tmp_path: Path
) -> None:
    text = (repo_root() / "config" / "settings.toml").read_text()
    assert "\n[recordings]\n" in text
    old = tmp_path / "settings.toml"
    old.write_text(text.replace("\n[recordings]\n",
                                "\n[recordings]\nretention_recordings_days = 30\n"))
    with pytest.raises(SettingsError, match=(
        r"setting \[recordings\] retention_recordings_days in .*settings.toml: "
        r"\[recordings\] retention_recordings_days moved to \[retention\] call_recordings_days"
    )):
        load_settings(old, env=env(state_dir))
