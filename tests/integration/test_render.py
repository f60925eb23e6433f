"""Rendering, scenarios and port leases, without Asterisk."""

from __future__ import annotations

import re
import wave
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

import pytest

from agent_routing.skills import routing
from dialplans.dids import did_aliases, normalise_did
from dialplans.minimal import minimal_extensions
from dialplans.params import RenderParams
from dialplans.render import render_config
from dialplans.templating import TemplateError, fill
from sandbox.ports import lease_ports
from sandbox.prompts import install_prompts
from sip_traffic.runner import read_stats
from sip_traffic.scenarios import (
    agent_scenario,
    caller_scenario,
    dtmf_pcap,
    keys,
    ring_no_answer_scenario,
)


def params(**overrides: object) -> RenderParams:
    values: dict[str, object] = {
        "instance_name": "unit",
        "ast_dir": PurePosixPath("/srv/line1300/unit"),
        "module_dir": PurePosixPath("/usr/lib/x86_64-linux-gnu/asterisk/modules"),
        "system_data_dir": PurePosixPath("/usr/share/asterisk"),
        "moh_dir": PurePosixPath("/usr/share/asterisk/moh"),
        "sip_port": 15060, "ami_port": 15038, "rtp_start": 16000, "rtp_end": 16999,
        "trunk_host": "127.0.0.1", "trunk_port": 15070,
        "ami_username": "line1300", "ami_secret": "s3cret",
        "agent_passwords": {"agent-001": "pw1", "agent-002": "pw2"},
        "wrapup_seconds": 30,
        "agent_contact": "127.0.0.1:15080",
        "admin_username": "sandbox-admin", "admin_secret": "adm",
    }
    values.update(overrides)
    return RenderParams(**values)  # type: ignore[arg-type]


def render(tmp_path: Path, **overrides: object) -> dict[str, str]:
    render_config(tmp_path, params(**overrides), minimal_extensions)
    return {p.name: p.read_text() for p in tmp_path.iterdir()}


def section(text: str, name: str) -> str:
    match = re.search(rf"^\[{re.escape(name)}\][^\n]*\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert match, f"no [{name}]"
    return match.group(1)


def test_controller_ami_user_gets_only_the_events_it_reads(tmp_path: Path) -> None:
    from controller.ami_events import CONTROLLER_EVENTS

    manager = render(tmp_path)["manager.conf"]
    controller, admin = section(manager, "line1300"), section(manager, "sandbox-admin")
    assert [line for line in controller.splitlines() if line.startswith("eventfilter")] == [
        f.conf_line() for f in CONTROLLER_EVENTS
    ]
    assert "eventfilter" not in admin


def test_asterisk_produces_no_event_nobody_reads_and_every_call_variable_on_call_events(
    tmp_path: Path,
) -> None:
    from call_log.facts import TRACKED_VARIABLES

    manager = render(tmp_path, ami_disabled_events=("Newexten", "VarSet"))["manager.conf"]
    general = section(manager, "general")
    assert "disabledevents = Newexten,VarSet" in general.splitlines()
    [channelvars] = re.findall(r"^channelvars = (.*)$", general, re.M)
    assert set(channelvars.split(",")) == TRACKED_VARIABLES
    assert not re.search(r"^disabledevents", render(tmp_path / "all")["manager.conf"], re.M)


def test_an_event_the_controller_reads_cannot_be_disabled(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the controller reads AgentCalled"):
        render(tmp_path, ami_disabled_events=("Newexten", "AgentCalled"))


def test_controller_ami_user_has_least_privilege(tmp_path: Path) -> None:
    manager = render(tmp_path)["manager.conf"]
    user = section(manager, "line1300")
    rights = set(re.findall(r"^(?:read|write) = (.*)$", user, re.M)[0].split(","))
    rights |= set(re.findall(r"^(?:read|write) = (.*)$", user, re.M)[1].split(","))
    assert not rights & {"command", "system", "config", "all", "dialplan"}
    assert "bindaddr = 127.0.0.1" in manager
    assert "write = all" in section(manager, "sandbox-admin")


def test_no_admin_user_without_admin_secret(tmp_path: Path) -> None:
    manager = render(tmp_path, admin_username=None, admin_secret=None)["manager.conf"]
    assert "sandbox-admin" not in manager


def test_one_queue_per_routing_queue_and_no_static_members(tmp_path: Path) -> None:
    queues = render(tmp_path)["queues.conf"]
    for queue in routing().queues:
        body = section(queues, queue.name)
        assert "wrapuptime = 30" in body and "ringinuse = no" in body
        assert ("monitor-format = wav" in body) == queue.record
    assert not re.search(r"^member\s*=", queues, re.M)


def test_agents_get_static_contact_in_tests_and_register_otherwise(tmp_path: Path) -> None:
    pjsip = render(tmp_path)["pjsip.conf"]
    assert "contact = sip:agent-002@127.0.0.1:15080" in pjsip
    assert "password = pw1" in pjsip
    registering = render(tmp_path / "r", agent_contact=None)["pjsip.conf"]
    assert "contact = sip:agent-" not in registering


def test_nothing_is_looked_up_or_autoloaded(tmp_path: Path) -> None:
    files = render(tmp_path)
    assert "autoload = no" in files["modules.conf"]
    assert "icesupport = no" in files["rtp.conf"] and "stunaddr" not in files["rtp.conf"]
    assert "bind = 127.0.0.1:15060" in files["pjsip.conf"]
    assert "enable = no" in files["dnsmgr.conf"]


def test_call_records_are_enabled(tmp_path: Path) -> None:
    files = render(tmp_path)
    assert "queue_log = yes" in files["logger.conf"]
    assert "[/srv/line1300/unit/log/cdr]" in files["cdr_sqlite3_custom.conf"]
    assert "linkedid" in files["cdr_sqlite3_custom.conf"]
    assert "USER_DEFINED" in files["cel.conf"]


def test_did_forms() -> None:
    assert did_aliases("+66991301300") == ("+66991301300", "66991301300", "0991301300")
    assert did_aliases("1300") == ("1300",)
    assert normalise_did("0991301300", ("1300", "+66991301300")) == "+66991301300"
    assert normalise_did("999", ("1300",)) is None


def test_minimal_dialplan_routes_every_did_form(tmp_path: Path) -> None:
    plan = render(tmp_path)["extensions.conf"]
    for alias in did_aliases(routing().ivr.international_did):
        assert f"exten => {alias},1,Goto(line1300-entry,international,1)" in plan
    assert "${CALLERID(num)}" in plan  # Asterisk syntax passes through


def test_template_names_missing_value() -> None:
    with pytest.raises(TemplateError, match="rtp_start"):
        fill("rtp.conf", {})


def _wav(path: Path, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * (rate // 10))


def test_prompts_are_installed_in_asterisk_format(tmp_path: Path) -> None:
    src = tmp_path / "prompts"
    _wav(src / "th" / "welcome.wav", 8000)
    _wav(src / "en" / "menu.wav", 16000)
    names = install_prompts(tmp_path / "dest", src)
    assert names == {"en": frozenset({"menu"}), "th": frozenset({"welcome"})}
    with wave.open(str(tmp_path / "dest" / "en" / "menu.wav")) as w:
        assert w.getframerate() == 8000  # converted (ffmpeg) for format_wav
    assert install_prompts(tmp_path / "dest", tmp_path / "absent") == {}


def test_scenarios_are_valid_xml_with_existing_pcaps() -> None:
    caller = caller_scenario(keys_pressed=keys("1*#"), hangup_after=None)
    for xml in (caller, agent_scenario(), ring_no_answer_scenario()):
        ET.fromstring(xml.split("\n", 2)[2])  # without the XML declaration and DOCTYPE
    for digit in "0123456789*#":
        assert dtmf_pcap(digit).exists()
        assert str(dtmf_pcap(digit)) in caller or digit not in "1*#"


def test_stats_csv_last_row(tmp_path: Path) -> None:
    stats = tmp_path / "s.csv"
    stats.write_text("TotalCallCreated;SuccessfulCall(C);FailedCall(C);\n1;0;0;\n3;2;1;\n")
    assert read_stats(stats) == {"TotalCallCreated": 3, "SuccessfulCall(C)": 2,
                                 "FailedCall(C)": 1}


def test_port_leases_do_not_overlap() -> None:
    first, second = lease_ports(), lease_ports()
    try:
        assert first.slot != second.slot
        assert first.ports.rtp_end < second.ports.sip or second.ports.rtp_end < first.ports.sip
    finally:
        first.release()
        second.release()


def test_disabled_events_setting_default_environment_and_bad_names(tmp_path: Path) -> None:
    from settings import load_settings
    from settings.loader import SettingsError

    base = {"LINE1300_GENERAL_STATE_DIR": str(tmp_path)}
    assert load_settings(env=base).asterisk.ami_disabled_events == (
        "Newexten", "VarSet", "TestEvent"
    )
    every = {**base, "LINE1300_ASTERISK_AMI_DISABLED_EVENTS": ""}
    assert load_settings(env=every).asterisk.ami_disabled_events == ()
    some = {**base, "LINE1300_ASTERISK_AMI_DISABLED_EVENTS": "Newexten, RTCPSent"}
    assert load_settings(env=some).asterisk.ami_disabled_events == ("Newexten", "RTCPSent")
    bad = {**base, "LINE1300_ASTERISK_AMI_DISABLED_EVENTS": "Newexten,Var Set"}
    with pytest.raises(SettingsError, match="'Var Set' is not an AMI event name"):
        load_settings(env=bad)
