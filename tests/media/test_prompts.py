"""recordings.prompts: the catalog, its start-up check, synthesis and the operator CLI."""

from __future__ import annotations

import json
import shutil
import tomllib
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from pythainlp.util import num_to_thaiword

from recordings import synth
from recordings.catalog import REPO_ROOT, Language
from recordings.numbers import NUMBER_VALUES
from recordings.prompts import (
    DEFAULT_ROOT,
    CatalogError,
    InvalidPromptFileError,
    MissingPromptError,
    PromptCatalog,
    SynthesisError,
    UnknownPromptError,
    espeak_voices,
    main,
    synthesize_all,
)

from .conftest import MakeAudio

TINY = """
version = 1
[languages.th]
name = "ไทย"
voice = "th"
[languages.en]
name = "English"
voice = "en"
[languages.km]
name = "ខ្មែរ"
voice = "none"
fallback = "en"

[prompts.greet]
aliases = ["hello"]
th = "สวัสดีค่ะ"
en = "Hello."
km = "សួស្តី។"

[prompts.offer]
th = "ภาษาไทย กด"
en = "For English, press"
km = "សម្រាប់ភាសាខ្មែរ សូមចុចលេខ"
fallback_text = { km = "For Khmer, press" }
"""


@pytest.fixture(scope="module")
def catalog() -> PromptCatalog:
    return PromptCatalog.load()


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    """A two-prompt catalog and its rendered files: (catalog path, root)."""
    path = tmp_path / "prompts.toml"
    path.write_text(TINY, encoding="utf-8")
    root = tmp_path / "prompts"
    synthesize_all(PromptCatalog.load(path), root)
    return path, root


def bytes_of(path: Path) -> bytes:
    return path.read_bytes()


# --- the real catalog ---------------------------------------------------------------------

def test_catalog_languages_and_khmer_fallback(catalog: PromptCatalog) -> None:
    assert list(catalog.languages) == ["th", "en", "km", "my"]
    km = catalog.languages["km"]
    assert (km.voice, km.fallback, km.reviewed) == ("none", "en", False)
    assert "English rendering" in km.note or "ENGLISH rendering" in km.note
    assert catalog.languages["my"].reviewed is False


def test_catalog_has_the_prompts_the_brief_and_the_ivr_need(catalog: PromptCatalog) -> None:
    needed = [
        "welcome-domestic", "welcome-international", "choose-language", "invalid", "no-input",
        "connecting", "no-agent-language", "callback-record", "callback-number",
        "callback-when", "queue-position", "queue-wait", "minutes", "leave-callback-hint",
        "survey", "survey-thanks", "goodbye", "more-than",
        *(f"num-{n}" for n in NUMBER_VALUES), *(f"digit-{d}" for d in range(10)),
    ]
    for name in needed:
        assert set(catalog.prompt(name).languages) >= {"th", "en", "km", "my"}, name


def test_every_prompt_named_in_ivr_toml_is_in_the_catalog(catalog: PromptCatalog) -> None:
    ivr_path = REPO_ROOT / "config" / "ivr.toml"
    if not ivr_path.is_file():
        pytest.skip("config/ivr.toml not present")
    ivr = tomllib.loads(ivr_path.read_text(encoding="utf-8"))
    names = {v for k, v in ivr.get("prompts", {}).items() if k != "digit"}
    names |= {o["prompt"] for o in ivr.get("menu", {}).get("options", [])}
    names |= {line["greeting"] for line in ivr.get("lines", {}).values() if "greeting" in line}
    template = ivr.get("prompts", {}).get("digit")
    if template:
        names |= {template.format(d=d) for d in range(10)}
    missing = sorted(n for n in names if not _known(catalog, n))
    assert not missing, f"config/ivr.toml names prompts missing from config/prompts.toml: {missing}"


def _known(catalog: PromptCatalog, name: str) -> bool:
    try:
        catalog.prompt(name)
    except UnknownPromptError:
        return False
    return True


def test_thai_number_texts_are_pythainlp_readings(catalog: PromptCatalog) -> None:
    for n in NUMBER_VALUES:
        assert catalog.text(f"num-{n}", "th") == num_to_thaiword(n)


def test_texts_are_written_in_their_scripts(catalog: PromptCatalog) -> None:
    scripts = {"th": ("\u0e00", "\u0e7f"), "km": ("\u1780", "\u17ff"), "my": ("\u1000", "\u109f")}
    for prompt in catalog.prompts.values():
        for lang, (low, high) in scripts.items():
            if lang in prompt.texts:
                assert any(low <= ch <= high for ch in prompt.texts[lang]), (prompt.id, lang)


def test_repository_prompt_files_are_complete(catalog: PromptCatalog) -> None:
    catalog.check_files(DEFAULT_ROOT)  # what start-up runs


def test_repository_prompt_files_stay_modest() -> None:
    total = sum(p.stat().st_size for p in DEFAULT_ROOT.rglob("*.wav"))
    assert total < 20 * 1024 * 1024


def test_espeak_has_thai_english_burmese_but_no_khmer() -> None:
    voices = espeak_voices()
    assert {"th", "en", "my"} <= voices
    assert "km" not in voices


def test_unknown_prompt_and_language(catalog: PromptCatalog) -> None:
    with pytest.raises(UnknownPromptError, match="nope"):
        catalog.prompt("nope")
    with pytest.raises(UnknownPromptError, match="num-et"):
        catalog.file("num-et", "en")  # Thai-only fragment


# --- catalog validation ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('fallback = "en"\n', ""), "needs fallback"),
        (lambda t: t.replace('km = "សួស្តី។"\n', ""), r"\[prompts.greet\] needs text"),
        (lambda t: t.replace('aliases = ["hello"]', 'aliases = ["offer"]'), "used by both"),
        (lambda t: t.replace("[prompts.greet]", "[prompts.Greet_1]"), "lower-case"),
        (lambda t: t.replace("version = 1", "version = 2"), "unsupported version"),
    ],
)
def test_malformed_catalog_is_refused(
    tmp_path: Path, change: Callable[[str], str], message: str
) -> None:
    path = tmp_path / "prompts.toml"
    path.write_text(change(TINY), encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        PromptCatalog.load(path)


# --- synthesis and the start-up check -----------------------------------------------------

def test_synthesized_files_are_8k_mono_with_alias_copies(tiny: tuple[Path, Path]) -> None:
    path, root = tiny
    PromptCatalog.load(path).check_files(root)
    with wave.open(str(root / "th" / "greet.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
    assert bytes_of(root / "en" / "hello.wav") == bytes_of(root / "en" / "greet.wav")


def test_khmer_files_are_the_english_rendering(tiny: tuple[Path, Path]) -> None:
    _, root = tiny
    assert bytes_of(root / "km" / "greet.wav") == bytes_of(root / "en" / "greet.wav")
    # A fallback_text ("For Khmer, press") is rendered instead of the English offer.
    assert bytes_of(root / "km" / "offer.wav") != bytes_of(root / "en" / "offer.wav")


def test_second_synthesis_renders_nothing(tiny: tuple[Path, Path]) -> None:
    path, root = tiny
    report = synthesize_all(PromptCatalog.load(path), root)
    assert report.written == ()
    assert report.unchanged == 6


def test_check_names_the_missing_prompt(tiny: tuple[Path, Path]) -> None:
    path, root = tiny
    (root / "km" / "offer.wav").unlink()
    with pytest.raises(MissingPromptError) as err:
        PromptCatalog.load(path).check_files(root)
    assert (err.value.prompt_id, err.value.lang) == ("offer", "km")
    assert "'offer' [km]" in str(err.value)
    assert str(root / "km" / "offer.wav") in str(err.value)


def test_check_refuses_a_file_asterisk_cannot_play(tiny: tuple[Path, Path]) -> None:
    path, root = tiny
    shutil.copyfile(root / "en" / "greet.wav", root / "th" / "greet.wav")
    (root / "th" / "hello.wav").write_bytes(b"RIFF....not really")
    with pytest.raises(InvalidPromptFileError, match=r"'greet' \[th\].*not a WAV"):
        PromptCatalog.load(path).check_files(root)


def test_cli_check(tiny: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    path, root = tiny
    assert main(["--catalog", str(path), "--root", str(root), "check"]) == 0
    (root / "th" / "greet.wav").unlink()
    assert main(["--catalog", str(path), "--root", str(root), "check"]) == 1
    assert "prompt 'greet' [th] is missing" in capsys.readouterr().err


# --- an operator's recording in place of a prompt ------------------------------------------

def test_cli_replace_converts_and_survives_resynthesis(
    tiny: tuple[Path, Path], make_tone: MakeAudio
) -> None:
    path, root = tiny
    args = ["--catalog", str(path), "--root", str(root)]
    synthesized = bytes_of(root / "th" / "greet.wav")
    recording = make_tone("mp3", tone=2.5)
    assert main([*args, "replace", "hello", "th", str(recording)]) == 0  # by its alias
    replaced = bytes_of(root / "th" / "greet.wav")
    assert replaced != synthesized
    with wave.open(str(root / "th" / "greet.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert 2.45 <= w.getnframes() / 8000 <= 2.8  # the tone, its silences trimmed
    assert bytes_of(root / "th" / "hello.wav") == replaced
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["th/greet"]["source"] == "recording"

    assert main([*args, "synthesize"]) == 0
    assert bytes_of(root / "th" / "greet.wav") == replaced
    assert main([*args, "synthesize", "--force"]) == 0
    assert bytes_of(root / "th" / "greet.wav") == synthesized


def test_cli_replace_refuses_non_audio_and_keeps_the_old_file(
    tiny: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path, root = tiny
    before = bytes_of(root / "en" / "greet.wav")
    fake = path.parent / "new-greeting.wav"
    fake.write_text("I am a text file")
    code = main(["--catalog", str(path), "--root", str(root), "replace", "greet", "en", str(fake)])
    assert code == 1
    assert "new-greeting.wav is not an audio file" in capsys.readouterr().err
    assert bytes_of(root / "en" / "greet.wav") == before


def test_cli_replace_unknown_prompt(
    tiny: tuple[Path, Path], make_tone: MakeAudio, capsys: pytest.CaptureFixture[str]
) -> None:
    path, root = tiny
    args = ["--catalog", str(path), "--root", str(root), "replace", "nope", "en"]
    assert main([*args, str(make_tone())]) == 1
    assert "no prompt 'nope'" in capsys.readouterr().err


def test_available_lists_names_per_language(tiny: tuple[Path, Path]) -> None:
    path, root = tiny
    available = PromptCatalog.load(path).available(root)
    assert available["th"] == {"greet", "hello", "offer"}


def test_a_voice_espeak_lacks_is_named(tmp_path: Path) -> None:
    path = tmp_path / "prompts.toml"
    path.write_text(TINY.replace('voice = "th"', 'voice = "xx-nope"'), encoding="utf-8")
    with pytest.raises(SynthesisError, match="no voice 'xx-nope' \\(th\\)"):
        synthesize_all(PromptCatalog.load(path), tmp_path / "out")


def test_a_text_espeak_chokes_on_is_spoken_in_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    real = synth.espeak
    said: list[str] = []

    def fussy(text: str, language: Language, dst: Path) -> Path:
        # Like espeak-ng 1.51 on long Burmese clauses: aborts on anything long.
        if len(text) > 12:
            raise SynthesisError("buffer overflow detected")
        said.append(text)
        return real(text, language, dst)

    monkeypatch.setattr(synth, "espeak", fussy)
    english = PromptCatalog.load().languages["en"]
    seg = synth.speak("please press the hash key", english)
    assert said == ["please press", "the hash key"]
    assert seg.frame_rate == 8000 and len(seg) > 1000


def test_key_spoken_inside_queue_periodic_matches_ivr_toml(catalog: PromptCatalog) -> None:
    ivr_path = REPO_ROOT / "config" / "ivr.toml"
    if not ivr_path.is_file():
        pytest.skip("config/ivr.toml not present")
    key = tomllib.loads(ivr_path.read_text(encoding="utf-8"))["callback"]["queue_callback_key"]
    assert catalog.prompt("queue-periodic").spoken_keys == (key,)
