"""Load config/settings.toml, apply LINE1300_* environment overrides, validate, add secrets.

A bad or missing setting stops start-up with a message naming the setting and the file,
because an operator at 3 a.m. must be able to fix it without reading code.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from retention.kinds import Kind, period_settings

ENV_PREFIX = "LINE1300_"
SECRET_NAMES = ("ami_secret", "case_store_token", "web_session_key")


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the setting and its source."""


@dataclass(frozen=True)
class AmiSettings:
    host: str
    port: int
    username: str
    secret: str
    action_timeout: float
    ping_interval: float
    ping_timeout: float


@dataclass(frozen=True)
class AsteriskSettings:
    mode: str
    sandbox_dir: Path
    sip_port: int
    trunk_host: str
    trunk_port: int
    rtp_start: int
    rtp_end: int
    agent_endpoints: int
    # Where Asterisk writes cel.sqlite3, cdr.sqlite3 and queue_log ("" = the instance we start).
    records_dir: str = ""
    # The folder that is Asterisk's "/" on this host, for the files it names by its own path
    # (recordings, callback messages) when it is external: "/" unless chrooted or containerised.
    root_dir: str = "/"
    # AMI events Asterisk does not produce at all (manager.conf disabledevents).
    ami_disabled_events: tuple[str, ...] = ()


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    session_key: str


@dataclass(frozen=True)
class CaseStoreSettings:
    url: str
    token: str
    timeout: float
    backoff_initial: float
    backoff_max: float


@dataclass(frozen=True)
class RoutingSettings:
    wrapup_seconds: int
    min_counsellors: int
    callback_max_attempts: int
    callback_retry_minutes: int
    callback_agent_ring_seconds: int = 30
    auto_login_on_shift: bool = True
    roster_horizon_days: int = 28


@dataclass(frozen=True)
class RecordingSettings:
    # Folder of converted recordings and messages.
    archive_dir: Path


@dataclass(frozen=True)
class RetentionSettings:
    """Days each kind of personal data is kept (config/settings.toml [retention] says why)."""

    # Every kind with a period of its own, read from its key in retention.kinds.KINDS.
    days: Mapping[Kind, int]
    # The daily purge, "HH:MM" local time.
    purge_time: str = "03:30"


@dataclass(frozen=True)
class Settings:
    source: Path
    timezone: zoneinfo.ZoneInfo
    state_dir: Path
    database_url: str
    ami: AmiSettings
    asterisk: AsteriskSettings
    web: WebSettings
    case_store: CaseStoreSettings
    routing: RoutingSettings
    recordings: RecordingSettings
    retention: RetentionSettings
    transcription_models: Mapping[str, Path] = field(default_factory=dict)
    service_level_seconds: int = 20

    @property
    def runtime_dir(self) -> Path:
        return self.state_dir / "run"


class _Reader:
    """Typed access to one section, with environment overrides and named errors."""

    def __init__(self, raw: Mapping[str, Any], source: Path, env: Mapping[str, str]) -> None:
        self._raw = raw
        self._source = source
        self._env = env

    @property
    def env(self) -> Mapping[str, str]:
        return self._env

    def has(self, section: str, key: str) -> bool:
        """Whether the file or the environment sets it."""
        section_values = self._raw.get(section)
        return (f"{ENV_PREFIX}{section}_{key}".upper() in self._env
                or (isinstance(section_values, Mapping) and key in section_values))

    def get(self, section: str, key: str, kind: type) -> Any:
        env_name = f"{ENV_PREFIX}{section}_{key}".upper()
        if env_name in self._env:
            return self._convert(self._env[env_name], kind, f"environment variable {env_name}")
        try:
            value = self._raw[section][key]
        except KeyError:
            raise SettingsError(f"setting [{section}] {key} is missing in {self._source}") from None
        return self._convert(value, kind, f"setting [{section}] {key} in {self._source}")

    @staticmethod
    def _convert(value: Any, kind: type, where: str) -> Any:
        try:
            if kind is bool and isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            if kind is int and isinstance(value, float):
                raise ValueError("not a whole number")
            if kind is list and isinstance(value, str):
                return value.split(",")  # from the environment: comma-separated
            if kind is list and not isinstance(value, list):
                raise TypeError("not a list")
            return kind(value)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{where}: expected {kind.__name__}, got {value!r}") from exc


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    source = path or Path(env.get("LINE1300_SETTINGS", repo_root() / "config" / "settings.toml"))
    raw = _read_toml(source)
    r = _Reader(raw, source, env)
    state_dir = _resolve(Path(r.get("general", "state_dir", str)))
    secret_values = _load_secrets(state_dir, env)
    settings = Settings(
        source=source,
        timezone=_timezone(r.get("general", "timezone", str), source),
        state_dir=state_dir,
        database_url=r.get("database", "url", str)
        or f"sqlite+aiosqlite:///{state_dir / 'line1300.sqlite3'}",
        ami=AmiSettings(
            host=r.get("ami", "host", str),
            port=_port(r.get("ami", "port", int), "ami", "port", source),
            username=r.get("ami", "username", str),
            secret=secret_values["ami_secret"],
            action_timeout=_positive(
                r.get("ami", "action_timeout", float), "ami", "action_timeout", source
            ),
            ping_interval=_positive(
                r.get("ami", "ping_interval", float), "ami", "ping_interval", source
            ),
            ping_timeout=_positive(
                r.get("ami", "ping_timeout", float), "ami", "ping_timeout", source
            ),
        ),
        asterisk=_asterisk(r, source),
        web=WebSettings(
            host=r.get("web", "host", str),
            port=_port(r.get("web", "port", int), "web", "port", source),
            session_key=secret_values["web_session_key"],
        ),
        case_store=CaseStoreSettings(
            url=r.get("case_store", "url", str).rstrip("/"),
            token=secret_values["case_store_token"],
            timeout=_positive(
                r.get("case_store", "timeout", float), "case_store", "timeout", source
            ),
            backoff_initial=r.get("case_store", "backoff_initial", float),
            backoff_max=r.get("case_store", "backoff_max", float),
        ),
        routing=RoutingSettings(
            wrapup_seconds=r.get("routing", "wrapup_seconds", int),
            min_counsellors=r.get("routing", "min_counsellors", int),
            callback_max_attempts=r.get("routing", "callback_max_attempts", int),
            callback_retry_minutes=r.get("routing", "callback_retry_minutes", int),
            callback_agent_ring_seconds=r.get("routing", "callback_agent_ring_seconds", int),
            auto_login_on_shift=r.get("routing", "auto_login_on_shift", bool),
            roster_horizon_days=r.get("routing", "roster_horizon_days", int),
        ),
        recordings=RecordingSettings(
            archive_dir=_resolve(
                Path(r.get("recordings", "archive_dir", str) or state_dir / "recordings")
            ),
        ),
        retention=_retention(r, source),
        transcription_models=_models(raw, env),
        service_level_seconds=r.get("reports", "service_level_seconds", int),
    )
    return settings


def _asterisk(r: _Reader, source: Path) -> AsteriskSettings:
    mode = r.get("asterisk", "mode", str)
    if mode not in ("auto", "system", "sandbox"):
        raise SettingsError(
            f"setting [asterisk] mode in {source}: expected auto, system or sandbox, got {mode!r}"
        )
    rtp_start = r.get("asterisk", "rtp_start", int)
    rtp_end = r.get("asterisk", "rtp_end", int)
    if not 1024 <= rtp_start < rtp_end <= 65535:
        raise SettingsError(f"settings [asterisk] rtp_start/rtp_end in {source}: bad range")
    return AsteriskSettings(
        mode=mode,
        sandbox_dir=Path(r.get("asterisk", "sandbox_dir", str)),
        sip_port=_port(r.get("asterisk", "sip_port", int), "asterisk", "sip_port", source),
        trunk_host=r.get("asterisk", "trunk_host", str),
        trunk_port=_port(r.get("asterisk", "trunk_port", int), "asterisk", "trunk_port", source),
        rtp_start=rtp_start,
        rtp_end=rtp_end,
        agent_endpoints=r.get("asterisk", "agent_endpoints", int),
        records_dir=r.get("asterisk", "records_dir", str),
        root_dir=_root_dir(r.get("asterisk", "root_dir", str), source),
        ami_disabled_events=_event_names(r.get("asterisk", "ami_disabled_events", list), source),
    )


def _root_dir(value: str, source: Path) -> str:
    if not value.startswith("/"):
        raise SettingsError(
            f"settings [asterisk] root_dir in {source}: {value!r} is not an absolute folder "
            '("/" when Asterisk sees the same files as this server)'
        )
    return value


def _event_names(value: list[str], source: Path) -> tuple[str, ...]:
    names = tuple(str(v).strip() for v in value if str(v).strip())
    for name in names:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
            raise SettingsError(
                f"settings [asterisk] ami_disabled_events in {source}: {name!r} is not an AMI "
                "event name (letters and digits, e.g. Newexten)"
            )
    return names


# Settings that moved to [retention]: still set under their old name, they would be ignored.
_MOVED_TO_RETENTION: Final = {
    "retention_recordings_days": "call_recordings_days",
    "retention_callback_messages_days": "callback_messages_days",
    "retention_call_records_days": "call_records_days",
    "purge_time": "purge_time",
}


def _refuse_moved(r: _Reader, source: Path) -> None:
    for old, new in _MOVED_TO_RETENTION.items():
        env_name = f"{ENV_PREFIX}recordings_{old}".upper()
        if r.has("recordings", old):
            where = (f"environment variable {env_name}" if env_name in r.env
                     else f"setting [recordings] {old} in {source}")
            raise SettingsError(
                f"{where}: [recordings] {old} moved to [retention] {new}"
                f" (environment variable {ENV_PREFIX}RETENTION_{new.upper()})"
            )


def _retention(r: _Reader, source: Path) -> RetentionSettings:
    _refuse_moved(r, source)
    keys = period_settings()  # the kinds and their keys: retention.kinds.KINDS
    days = {kind: r.get("retention", key, int) for kind, key in keys.items()}
    for kind, value in days.items():
        if value < 1:
            raise SettingsError(
                f"setting [retention] {keys[kind]} in {source}: must be >= 1, got {value}"
            )
    retention = RetentionSettings(
        days,
        purge_time=_clock_time(
            r.get("retention", "purge_time", str), "retention", "purge_time", source
        ),
    )
    audit_log = days[Kind.AUDIT_ENTRY]
    longest, kept = max(((keys[k], d) for k, d in days.items() if k is not Kind.AUDIT_ENTRY),
                        key=lambda item: item[1])
    if audit_log < kept:
        # The audit log is the evidence of who saw or changed the data: it must outlive it.
        raise SettingsError(
            f"setting [retention] {keys[Kind.AUDIT_ENTRY]} in {source}: {audit_log} is "
            f"shorter than {longest} ({kept}); the audit log must be kept at least as long"
        )
    return retention


def _read_toml(source: Path) -> dict[str, Any]:
    try:
        with source.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"settings file {source} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {source} is not valid TOML: {exc}") from exc


def _resolve(path: Path) -> Path:
    return path if path.is_absolute() else repo_root() / path


def _timezone(name: str, source: Path) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"setting [general] timezone in {source}: unknown time zone {name!r}"
        ) from None


def _clock_time(value: str, section: str, key: str, source: Path) -> str:
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise SettingsError(f"setting [{section}] {key} in {source}: expected HH:MM, got {value!r}")
    return f"{int(hours):02d}:{int(minutes):02d}"


def _port(value: int, section: str, key: str, source: Path) -> int:
    if not 1 <= value <= 65535:
        raise SettingsError(f"setting [{section}] {key} in {source}: {value} is not a TCP/UDP port")
    return value


def _positive(value: float, section: str, key: str, source: Path) -> float:
    if value <= 0:
        raise SettingsError(f"setting [{section}] {key} in {source}: must be > 0, got {value}")
    return value


def _models(raw: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Path]:
    models = {k: Path(v) for k, v in raw.get("transcription", {}).get("models", {}).items() if v}
    for name, value in env.items():
        if name.startswith(f"{ENV_PREFIX}TRANSCRIPTION_MODEL_") and value:
            models[name.removeprefix(f"{ENV_PREFIX}TRANSCRIPTION_MODEL_").lower()] = Path(value)
    return models


def _load_secrets(state_dir: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Secrets come from the environment, else from <state_dir>/secrets.toml, made on first run."""
    path = state_dir / "secrets.toml"
    stored: dict[str, str] = {}
    if path.exists():
        stored = {k: str(v) for k, v in _read_toml(path).items()}
    values: dict[str, str] = {}
    changed = False
    for name in SECRET_NAMES:
        from_env = env.get(f"{ENV_PREFIX}{name}".upper())
        if from_env:
            values[name] = from_env
        elif name in stored:
            values[name] = stored[name]
        elif name == "case_store_token":
            values[name] = ""  # only the case store's operator can issue one
        else:
            values[name] = stored[name] = secrets.token_urlsafe(24)
            changed = True
    if changed:
        _write_secrets(path, stored)
    return values


def _write_secrets(path: Path, values: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# Generated on first run. Keep private.\n")
        for key, value in values.items():
            fh.write(f'{key} = "{value}"\n')
    os.replace(tmp, path)
