"""IVR prompts: the catalog, its start-up check, synthesis and the operator's command line.

    python -m recordings.prompts synthesize [--force]   regenerate placeholders with espeak-ng
    python -m recordings.prompts replace ID LANG FILE   put a real recording in place
    python -m recordings.prompts check                  every file present and playable
    python -m recordings.prompts list                   ids, languages and review status

Start-up: `PromptCatalog.load(path).check_files(root)` raises MissingPromptError naming the
prompt id, language and file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .catalog import (
    DEFAULT_CATALOG,
    DEFAULT_ROOT,
    CatalogError,
    InvalidPromptFileError,
    Language,
    MissingPromptError,
    Prompt,
    PromptCatalog,
    PromptError,
    PromptFile,
    UnknownPromptError,
)
from .convert import AudioError
from .synth import SynthesisError, SynthesisReport, espeak_voices, replace_prompt, synthesize_all

__all__ = [
    "DEFAULT_CATALOG",
    "DEFAULT_ROOT",
    "CatalogError",
    "InvalidPromptFileError",
    "Language",
    "MissingPromptError",
    "Prompt",
    "PromptCatalog",
    "PromptError",
    "PromptFile",
    "SynthesisError",
    "SynthesisReport",
    "UnknownPromptError",
    "espeak_voices",
    "main",
    "replace_prompt",
    "synthesize_all",
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recordings.prompts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="prompt files folder")
    sub = parser.add_subparsers(dest="command", required=True)
    synth = sub.add_parser("synthesize", help="render changed or missing prompts with espeak-ng")
    synth.add_argument("--force", action="store_true",
                       help="render everything again, replacing real recordings too")
    replace = sub.add_parser("replace", help="use an audio file (wav/mp3/ogg/flac/m4a)")
    replace.add_argument("prompt_id")
    replace.add_argument("lang")
    replace.add_argument("audio_file", type=Path)
    sub.add_parser("check", help="exit 1 when a prompt file is missing or not 8 kHz mono")
    sub.add_parser("list", help="prompt ids and languages")
    return parser


def _synthesize(catalog: PromptCatalog, root: Path, force: bool) -> str:
    report = synthesize_all(catalog, root, force=force)
    kept = f"; kept {len(report.kept_recordings)} real recordings" if report.kept_recordings else ""
    return f"rendered {len(report.written)}, unchanged {report.unchanged}{kept} -> {root}"


def _replace(catalog: PromptCatalog, root: Path, args: argparse.Namespace) -> str:
    result = replace_prompt(catalog, args.prompt_id, args.lang, args.audio_file, root)
    return f"{args.prompt_id} [{args.lang}] <- {args.audio_file.name}: {result.duration_s:.1f} s"


def _check(catalog: PromptCatalog, root: Path) -> str:
    catalog.check_files(root)
    return f"all {sum(1 for _ in catalog.files())} prompt files present in {root}"


def _list(catalog: PromptCatalog) -> str:
    lines = [
        f"{lang.code}: {lang.name} voice={lang.voice}"
        + (f" (fallback {lang.fallback})" if lang.fallback else "")
        + ("" if lang.reviewed else " [texts not reviewed]")
        for lang in catalog.languages.values()
    ]
    lines += [f"{p.id} {'/'.join(p.languages)}" for p in catalog.prompts.values()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        catalog = PromptCatalog.load(args.catalog)
        if args.command == "synthesize":
            message = _synthesize(catalog, args.root, args.force)
        elif args.command == "replace":
            message = _replace(catalog, args.root, args)
        elif args.command == "check":
            message = _check(catalog, args.root)
        else:
            message = _list(catalog)
    except (PromptError, AudioError) as exc:
        # An operator's mistake (wrong id, a text file renamed .wav): one clear line, no trace.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
