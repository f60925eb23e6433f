"""Audio in any common format -> the 8 kHz formats Asterisk plays, and a compact archive format.

Operators upload prompts as wav/mp3/ogg/flac/m4a; Asterisk wants 8 kHz mono 16-bit WAV (or raw
G.711 u-law/a-law, which it plays without transcoding). Uploads are checked with ffprobe before
anything is decoded: a 2 GB file or a 3-hour recording must be refused before pydub expands it
into memory (10 minutes of 48 kHz stereo is already ~230 MB of PCM).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import structlog
from pydub import AudioSegment
from pydub.silence import detect_leading_silence

log = structlog.get_logger(__name__)

RawLaw = Literal["ulaw", "alaw"]
# ffmpeg's raw G.711 muxers; the file extensions are the ones Asterisk looks for.
_RAW_MUXERS: dict[RawLaw, str] = {"ulaw": "mulaw", "alaw": "alaw"}
_PROBE_TIMEOUT_S = 30
MB = 1024 * 1024


class AudioError(Exception):
    """Base of the errors an operator sees when an audio file is refused."""


class NotAudioError(AudioError):
    """The file is not audio ffmpeg can read (e.g. a text file renamed .wav)."""


class AudioTooLargeError(AudioError):
    """The file is over the size or duration limit."""


class AudioToolMissingError(AudioError):
    """ffmpeg/ffprobe are not installed (Debian package `ffmpeg`)."""


@dataclass(frozen=True)
class ConvertOptions:
    """How an upload becomes a telephone prompt. Defaults suit IVR prompts."""

    target_dbfs: float = -20.0
    sample_rate: int = 8000
    trim_silence: bool = True
    # Quieter than this many dB below the peak counts as silence: relative, so a quiet
    # phone recording is trimmed as well as a loud studio one.
    silence_below_peak_db: float = 40.0
    # Kept at each end so the first consonant is not clipped.
    keep_silence_ms: int = 60
    max_bytes: int = 50 * MB
    max_duration_s: float = 600.0
    # Shorter than this is no recording at all (a WAV whose header promises far more data
    # than the file holds decodes to a few milliseconds): refused rather than played as silence.
    min_duration_s: float = 0.1
    # Background work (archiving): ffprobe and ffmpeg at the lowest CPU priority.
    background: bool = False


DEFAULT_OPTIONS = ConvertOptions()
# Whole calls: hours long, never trimmed or normalised (see to_archive).
ARCHIVE_OPTIONS = ConvertOptions(
    max_bytes=1024 * MB, max_duration_s=6 * 3600.0, background=True
)


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    size_bytes: int
    duration_s: float | None
    format_name: str


@dataclass(frozen=True)
class ConvertResult:
    wav: Path
    raw: tuple[Path, ...]
    duration_s: float


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AudioToolMissingError(f"{name} is not installed (Debian package 'ffmpeg')")
    return path


def _priority(options: ConvertOptions) -> list[str]:
    """Archiving can wait, calls cannot: its tools run at the lowest CPU priority, so on a busy
    host they take only what Asterisk and the controller leave (`nice`, from coreutils)."""
    nice = shutil.which("nice") if options.background else None
    return [nice, "-n", "19"] if nice else []


def _ffprobe_json(src: Path, options: ConvertOptions) -> dict[str, Any]:
    cmd = [
        *_priority(options), _tool("ffprobe"), "-v", "error", "-of", "json",
        "-show_entries", "format=duration,format_name:stream=codec_type", str(src),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise NotAudioError(f"{src.name}: ffprobe could not read it in {exc.timeout} s") from exc
    if proc.returncode != 0:
        reason = proc.stderr.strip().splitlines()[-1:] or ["unreadable"]
        raise NotAudioError(f"{src.name} is not an audio file ffmpeg can read ({reason[0]})")
    data: dict[str, Any] = json.loads(proc.stdout or "{}")
    return data


def probe(src: Path, options: ConvertOptions = DEFAULT_OPTIONS) -> AudioInfo:
    """Size, duration and format of `src`, refusing oversize and non-audio files undecoded."""
    if not src.is_file():
        raise NotAudioError(f"{src} does not exist or is not a file")
    size = src.stat().st_size
    if size > options.max_bytes:
        raise AudioTooLargeError(
            f"{src.name} is {size / MB:.1f} MB; the limit is {options.max_bytes / MB:.0f} MB"
        )
    data = _ffprobe_json(src, options)
    if not any(s.get("codec_type") == "audio" for s in data.get("streams", [])):
        raise NotAudioError(f"{src.name} contains no audio stream")
    fmt = data.get("format", {})
    duration = _parse_duration(fmt.get("duration"))
    if duration is not None and duration > options.max_duration_s:
        raise AudioTooLargeError(
            f"{src.name} lasts {duration / 60:.1f} min; "
            f"the limit is {options.max_duration_s / 60:.0f} min"
        )
    return AudioInfo(src, size, duration, str(fmt.get("format_name", "")))


def _parse_duration(value: object) -> float | None:
    # Raw streams report "N/A": the length is then checked after decoding instead.
    try:
        return float(str(value))
    except ValueError:
        return None


def load_audio(
    src: Path, options: ConvertOptions = DEFAULT_OPTIONS, sample_rate: int | None = None
) -> AudioSegment:
    """Decode `src`, after `probe` accepted it, to mono 16-bit at `sample_rate`.

    ffmpeg decodes and resamples (its resampler filters; pydub's audioop.ratecv would alias
    22 kHz speech into the 8 kHz band), and `-t` caps the decoded length, so a stream whose
    duration ffprobe could not tell still cannot fill memory.
    """
    info = probe(src, options)
    rate = sample_rate or options.sample_rate
    cmd = [
        _tool("ffmpeg"), "-nostdin", "-v", "error", "-i", str(src), "-vn", "-ac", "1",
        "-ar", str(rate), "-t", str(options.max_duration_s + 1), "-f", "s16le", "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        reason = proc.stderr.decode(errors="replace").strip()[-300:] or "no audio data"
        raise NotAudioError(f"{src.name} could not be decoded as audio ({reason})")
    seg = AudioSegment(data=proc.stdout, sample_width=2, frame_rate=rate, channels=1)
    if seg.duration_seconds < options.min_duration_s:
        raise NotAudioError(f"{src.name} holds {seg.duration_seconds:.2f} s of audio, less than "
                            f"the {options.min_duration_s:g} s of the shortest recording")
    if info.duration_s is None and seg.duration_seconds > options.max_duration_s:
        raise AudioTooLargeError(
            f"{src.name} lasts over {options.max_duration_s / 60:.0f} min, the limit"
        )
    return seg


def trim_silence(seg: AudioSegment, below_peak_db: float, keep_ms: int) -> AudioSegment:
    """Cut leading and trailing silence; a wholly silent segment is returned unchanged."""
    if len(seg) == 0 or seg.max_dBFS == float("-inf"):
        return seg
    threshold = seg.max_dBFS - below_peak_db
    start = detect_leading_silence(seg, silence_threshold=threshold)
    end = len(seg) - detect_leading_silence(seg.reverse(), silence_threshold=threshold)
    if start >= end:
        return seg
    return seg[max(0, start - keep_ms) : min(len(seg), end + keep_ms)]


def normalise(seg: AudioSegment, target_dbfs: float) -> AudioSegment:
    """Gain to `target_dbfs` average loudness, never past full scale (no clipping)."""
    if seg.dBFS == float("-inf"):
        return seg
    gain = min(target_dbfs - seg.dBFS, -seg.max_dBFS - 0.1)
    return seg.apply_gain(gain)


def to_telephony(seg: AudioSegment, options: ConvertOptions = DEFAULT_OPTIONS) -> AudioSegment:
    """Mono, `options.sample_rate`, 16-bit, trimmed and normalised."""
    seg = seg.set_channels(1)
    if options.trim_silence:
        seg = trim_silence(seg, options.silence_below_peak_db, options.keep_silence_ms)
    seg = seg.set_frame_rate(options.sample_rate).set_sample_width(2)
    return normalise(seg, options.target_dbfs)


def export_wav(seg: AudioSegment, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part")
    # No codec/parameters: pydub writes the PCM itself with a plain 44-byte header (no encoder
    # chunk), the simplest WAV for Asterisk's reader and byte-identical on every run, so
    # regenerating prompts leaves git quiet. It also spares an ffmpeg process per file.
    seg.export(str(tmp), format="wav")
    tmp.replace(dst)
    return dst


def export_raw(seg: AudioSegment, dst: Path, law: RawLaw) -> Path:
    """Headerless G.711 (`.ulaw`/`.alaw`) as Asterisk stores its own sounds."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part")
    seg.export(str(tmp), format=_RAW_MUXERS[law], parameters=["-ar", str(seg.frame_rate)])
    tmp.replace(dst)
    return dst


def convert_segment(
    seg: AudioSegment,
    dst: Path,
    options: ConvertOptions = DEFAULT_OPTIONS,
    raw: Iterable[RawLaw] = (),
) -> ConvertResult:
    """Write an already decoded segment as `dst` (.wav) plus optional raw siblings."""
    out = to_telephony(seg, options)
    wav = export_wav(out, dst.with_suffix(".wav"))
    raws = tuple(export_raw(out, dst.with_suffix(f".{law}"), law) for law in raw)
    return ConvertResult(wav, raws, out.duration_seconds)


def convert_file(
    src: Path,
    dst: Path,
    options: ConvertOptions = DEFAULT_OPTIONS,
    raw: Iterable[RawLaw] = (),
) -> ConvertResult:
    """Any audio file -> `dst` as 8 kHz mono 16-bit WAV (and `.ulaw`/`.alaw` if asked)."""
    result = convert_segment(load_audio(src, options), dst, options, raw)
    log.info("audio.converted", src=str(src), dst=str(result.wav), seconds=result.duration_s)
    return result


def to_archive(
    src: Path,
    dst: Path,
    bitrate: str = "16k",
    options: ConvertOptions = ARCHIVE_OPTIONS,
) -> Path:
    """Keep a call recording compactly: Opus in Ogg, mono, about 2 kB/s at 16 kbit/s.

    Not trimmed or normalised: an archived call is a record of what was said and must stay as
    heard. Opus is built for speech at low bitrates and Debian's ffmpeg ships libopus. ffmpeg
    streams the file instead of pydub decoding it: a long call would otherwise sit in memory.
    """
    info = probe(src, options)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part")
    cmd = [
        *_priority(options),
        _tool("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(src), "-vn", "-ac", "1",
        "-c:a", "libopus", "-b:a", bitrate, "-application", "voip", "-f", "ogg", str(tmp),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise NotAudioError(f"{src.name} could not be archived: {proc.stderr.strip()[-300:]}")
    tmp.replace(dst)
    log.info("audio.archived", src=str(src), dst=str(dst), seconds=info.duration_s)
    return dst
