"""recordings.convert: any upload -> Asterisk's 8 kHz formats; refusals before decoding."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import pytest
from pydub import AudioSegment

from recordings import convert
from recordings.convert import (
    AudioTooLargeError,
    ConvertOptions,
    NotAudioError,
    convert_file,
    normalise,
    to_archive,
    trim_silence,
)

from .conftest import MakeAudio


def wav_params(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        return w.getnchannels(), w.getsampwidth(), rate, w.getnframes() / rate


@pytest.mark.parametrize("ext", ["wav", "mp3", "ogg", "flac", "m4a"])
def test_common_formats_become_8k_mono_16bit_trimmed_and_normalised(
    make_tone: MakeAudio, tmp_path: Path, ext: str
) -> None:
    src = make_tone(ext)  # 0.5 s silence + 1 s tone + 0.7 s silence, 44.1 kHz stereo
    result = convert_file(src, tmp_path / "out" / "prompt.wav")

    channels, width, rate, seconds = wav_params(result.wav)
    assert (channels, width, rate) == (1, 2, 8000)
    # Silence trimmed to the tone plus the 60 ms kept at each end (codecs pad a few ms).
    assert 0.95 <= seconds <= 1.3, seconds
    assert AudioSegment.from_wav(str(result.wav)).dBFS == pytest.approx(-20.0, abs=1.0)


def test_raw_ulaw_and_alaw_written_beside_the_wav(make_tone: MakeAudio, tmp_path: Path) -> None:
    result = convert_file(make_tone(), tmp_path / "p.wav", raw=("ulaw", "alaw"))
    frames = round(wav_params(result.wav)[3] * 8000)
    assert [p.suffix for p in result.raw] == [".ulaw", ".alaw"]
    # One byte per sample, no header: what Asterisk's own sounds look like.
    assert all(p.stat().st_size == frames for p in result.raw)


def test_target_loudness_is_configurable(make_tone: MakeAudio, tmp_path: Path) -> None:
    result = convert_file(make_tone(), tmp_path / "p.wav", ConvertOptions(target_dbfs=-26.0))
    assert AudioSegment.from_wav(str(result.wav)).dBFS == pytest.approx(-26.0, abs=1.0)


def test_text_file_renamed_wav_is_refused_with_its_name(tmp_path: Path) -> None:
    fake = tmp_path / "greeting.wav"
    fake.write_text("this is a text file, not a recording\n")
    with pytest.raises(NotAudioError, match=r"greeting\.wav is not an audio file"):
        convert_file(fake, tmp_path / "out.wav")
    assert not (tmp_path / "out.wav").exists()


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    with pytest.raises(NotAudioError, match=r"empty\.mp3"):
        convert_file(empty, tmp_path / "out.wav")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotAudioError, match="does not exist"):
        convert_file(tmp_path / "nope.wav", tmp_path / "out.wav")


def test_oversize_file_refused_before_probing(
    make_tone: MakeAudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_probe(src: Path) -> None:
        raise AssertionError("probed a file that is over the size limit")

    monkeypatch.setattr(convert, "_ffprobe_json", no_probe)
    with pytest.raises(AudioTooLargeError, match=r"tone\.wav is .* MB; the limit is"):
        convert_file(make_tone(), tmp_path / "out.wav", ConvertOptions(max_bytes=10_000))


def test_overlong_file_refused_without_decoding(
    make_tone: MakeAudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_tone("mp3")  # 2.2 s
    tools: list[str] = []
    real_tool = convert._tool

    def spy(name: str) -> str:
        tools.append(name)
        return real_tool(name)

    monkeypatch.setattr(convert, "_tool", spy)
    with pytest.raises(AudioTooLargeError, match="min; the limit is"):
        convert_file(src, tmp_path / "out.wav", ConvertOptions(max_duration_s=1.0))
    assert tools == ["ffprobe"]  # ffmpeg never decoded it


def test_default_limits_are_50_mb_and_10_minutes() -> None:
    options = ConvertOptions()
    assert options.max_bytes == 50 * 1024 * 1024
    assert options.max_duration_s == 600


def test_trim_leaves_a_silent_segment_alone() -> None:
    silent = AudioSegment.silent(duration=800, frame_rate=8000)
    assert len(trim_silence(silent, 40.0, 60)) == 800


def test_normalise_never_clips() -> None:
    # A 10 ms full-scale click in a second of silence: reaching -10 dBFS average would need
    # +30 dB, far past full scale.
    click = AudioSegment(
        data=(b"\xff\x7f" * 80 + b"\x00\x00" * 7920), sample_width=2, frame_rate=8000, channels=1
    )
    assert normalise(click, -10.0).max_dBFS <= 0.0


def test_normalise_leaves_digital_silence_alone() -> None:
    silence = AudioSegment.silent(duration=1000, frame_rate=8000)
    assert normalise(silence, -20.0).dBFS == float("-inf")


def test_archive_is_opus_in_ogg_and_small(make_tone: MakeAudio, tmp_path: Path) -> None:
    src = make_tone()
    dst = to_archive(src, tmp_path / "call.ogg")
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_entries",
         "stream=codec_name,channels:format=format_name,duration", str(dst)],
        capture_output=True, text=True, check=True,
    )
    info = json.loads(probe.stdout)
    assert info["streams"][0]["codec_name"] == "opus"
    assert info["streams"][0]["channels"] == 1
    assert info["format"]["format_name"] == "ogg"
    # Not trimmed: a call archive keeps every second.
    assert float(info["format"]["duration"]) == pytest.approx(2.2, abs=0.1)
    assert dst.stat().st_size < src.stat().st_size / 20


def test_archive_refuses_non_audio(tmp_path: Path) -> None:
    fake = tmp_path / "call.wav"
    fake.write_text("not audio")
    with pytest.raises(NotAudioError, match=r"call\.wav"):
        to_archive(fake, tmp_path / "call.ogg")
