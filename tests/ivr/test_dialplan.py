"""The generated dialplan and the IVR start-up check, without Asterisk (test_ivr_asterisk.py
runs the same dialplan in a real Asterisk)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePosixPath

import pytest

from agent_routing.skills import routing
from dialplans.extensions import (
    CALLER_LANGUAGE,
    QUEUE_EXIT_CONTEXT,
    DialplanPaths,
    PromptUse,
    all_prompt_uses,
    build_dialplan,
    queue_options,
)
from dialplans.render import render_queues
from ivr.check import IvrStartupCheck
from ivr.definition import ivr_definition
from ivr.routing_table import build_table
from recordings.catalog import DEFAULT_ROOT, MissingPromptError, PromptCatalog, UnknownPromptError

PATHS = DialplanPaths(
    PurePosixPath("/srv/x/spool/monitor"), PurePosixPath("/srv/x/spool/callbacks")
)


@pytest.fixture(scope="module")
def text() -> str:
    return build_dialplan(PATHS).text


def _globals(text: str) -> dict[str, str]:
    section = text.split("[globals]", 1)[1].split("\n[", 1)[0]
    return dict(
        line.split("=", 1)
        for line in section.splitlines()
        if "=" in line and not line.startswith(";")
    )


def test_routing_table_is_written_as_globals(text: str) -> None:
    values = _globals(text)
    table = build_table(ivr_definition(), routing())

    for route in table:
        assert values[f"L1300_Q_{route.line}_{route.language}_{route.option}"] == route.queue
        assert (
            values[f"L1300_FQ_{route.line}_{route.language}_{route.option}"] == route.fallback_queue
        )
    assert values["L1300_QPRIO_critical"] == str(routing().ivr.critical_priority)
    assert values["L1300_DEFAULT_QUEUE"] == routing().ivr.default_queue
    assert values["L1300_REC_counsel-th"] == "1"
    assert values["L1300_REC_intl-km"] == "0"


def test_every_did_form_reaches_its_line(text: str) -> None:
    trunk = text.split("[from-trunk]", 1)[1].split("\n[", 1)[0]

    for did in ("1300",):
        assert f"exten => {did},1,Goto(line1300-domestic,s,1)" in trunk
    for did in ("+66991301300", "66991301300", "0991301300"):
        assert f"exten => {did},1,Goto(line1300-international,s,1)" in trunk


def test_every_language_key_and_the_emergency_key_work_in_the_greetings(text: str) -> None:
    for line in ("domestic", "international"):
        context = text.split(f"[line1300-{line}]", 1)[1].split("\n[", 1)[0]
        for lang in routing().languages.values():
            assert f"exten => {lang.ivr_key},1,Gosub(line1300-language,s,1({lang.code}))" in context
        assert f"exten => {routing().ivr.emergency_key},1,Goto(line1300-emergency,s,1)" in context


def test_no_unfilled_placeholder_and_no_hard_coded_queue_in_the_logic(text: str) -> None:
    assert "{{" not in text
    logic = text.split("; --- Reporting", 1)[1]
    # Queue names live only in the globals generated from routing.toml.
    for name in routing().queue_names:
        assert name not in logic


def test_prompts_are_played_in_the_language_they_are_declared_for(text: str) -> None:
    played = set(re.findall(r"line1300/([^/&,)]+)/([a-z0-9-]+)(\$\{L1300_D\})?", text))
    declared = build_dialplan(PATHS).prompts

    for folder, prompt_id, computed in played:
        language = CALLER_LANGUAGE if folder == "${L1300_LANG}" else folder
        # A name completed at run time by a digit: every digit's prompt must be declared.
        names = [prompt_id + d for d in "0123456789"] if computed else [prompt_id]
        for name in names:
            assert PromptUse(language, name) in declared, (folder, name)


def _weight(options: dict[str, object]) -> int:
    weight = options["weight"]
    assert isinstance(weight, int)
    return weight


def test_queue_options_send_keys_to_the_exit_context_and_weigh_the_emergency_queue() -> None:
    options = {q.name: queue_options(q) for q in routing().queues}

    assert all(o["context"] == QUEUE_EXIT_CONTEXT for o in options.values())
    assert _weight(options["critical-th"]) > _weight(options["counsel-th"])
    # intl-* also takes normal calls, so it gets no extra weight.
    assert options["intl-km"]["weight"] == options["counsel-th"]["weight"]


def test_rendered_queues_conf_carries_the_ivr_options() -> None:
    from dialplans.params import RenderParams

    params = RenderParams(
        instance_name="t",
        ast_dir=PurePosixPath("/srv/t"),
        module_dir=PurePosixPath("/m"),
        system_data_dir=PurePosixPath("/d"),
        moh_dir=None,
        sip_port=1,
        ami_port=2,
        rtp_start=3,
        rtp_end=4,
        trunk_host="127.0.0.1",
        trunk_port=5,
        ami_username="u",
        ami_secret="s",
        agent_passwords={},
        wrapup_seconds=30,
    )
    conf = render_queues(params, routing().queues)
    critical = conf.split("[critical-th]", 1)[1].split("\n[", 1)[0]

    assert f"context = {QUEUE_EXIT_CONTEXT}" in critical
    assert "weight = 10" in critical
    assert "periodic-announce-frequency = 0" in critical


def test_startup_check_passes_with_the_shipped_prompts() -> None:
    report = IvrStartupCheck(PromptCatalog.load(), DEFAULT_ROOT).run()

    expected = all_prompt_uses(routing().languages, build_dialplan(PATHS).prompts)
    assert report.files == len(expected)


def test_startup_check_names_a_missing_prompt_file(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    shutil.copytree(DEFAULT_ROOT, root)
    (root / "km" / "fallback-no-agent.wav").unlink()

    with pytest.raises(MissingPromptError) as caught:
        IvrStartupCheck(PromptCatalog.load(), root).run()

    assert (caught.value.prompt_id, caught.value.lang) == ("fallback-no-agent", "km")
    assert caught.value.path == root / "km" / "fallback-no-agent.wav"
    assert "fallback-no-agent" in str(caught.value) and "[km]" in str(caught.value)


def test_startup_check_refuses_a_prompt_the_catalog_does_not_define(tmp_path: Path) -> None:
    catalog = PromptCatalog.load()
    source = catalog.path
    assert source is not None
    text = source.read_text(encoding="utf-8")
    start = text.index("[prompts.survey-thanks]")
    end = text.index("\n[", start + 1)
    edited = tmp_path / "prompts.toml"
    edited.write_text(text[:start] + text[end + 1 :], encoding="utf-8")

    with pytest.raises(UnknownPromptError, match="survey-thanks"):
        IvrStartupCheck(PromptCatalog.load(edited), DEFAULT_ROOT).run()


def test_dated_folders_follow_the_centres_day_not_the_asterisk_hosts_clock() -> None:
    """A call at 00:16 Bangkok is filed under that day, on an Asterisk host kept in UTC too."""
    text = build_dialplan(DialplanPaths(PATHS.recordings, PATHS.callback_messages,
                                        "Asia/Bangkok")).text
    assert _globals(text)["L1300_TZ"] == "Asia/Bangkok"
    dated = re.findall(r"\$\{STRFTIME\(\$\{EPOCH\},([^,]*),%Y/%m/%d\)\}", text)
    assert dated == ["${L1300_TZ}", "${L1300_TZ}"]  # the recording's folder and the message's
