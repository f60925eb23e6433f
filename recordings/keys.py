"""Typed application state of the media room (aiohttp AppKey)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from recordings.access import OpenRecording
from recordings.asterisk_paths import AsteriskPaths
from recordings.prompt_upload import ListPrompts, ReplacePromptUpload
from recordings.transcription_service import RetryTranscript, TranscriptionProgress
from recordings.views import ListCallbackMessages, ListRecordings

if TYPE_CHECKING:
    from recordings.install import MediaRoom


@dataclass(frozen=True)
class MediaServices:
    recordings: ListRecordings
    messages: ListCallbackMessages
    open: OpenRecording
    progress: TranscriptionProgress
    retry: RetryTranscript
    wake: Callable[[], None]  # the media loop: something is waiting for it
    prompts: ListPrompts
    replace_prompt: ReplacePromptUpload
    upload_limit_bytes: int


MEDIA: web.AppKey[MediaServices] = web.AppKey("media", MediaServices)
# Set before start-up to point the room at a given Asterisk (tests: a sandbox test instance);
# otherwise the room derives it from the settings.
ASTERISK_PATHS: web.AppKey[AsteriskPaths] = web.AppKey("asterisk_paths", AsteriskPaths)
# Likewise the folder of IVR prompt files (default recordings/prompts, which uploads replace).
PROMPTS_ROOT: web.AppKey[Path] = web.AppKey("prompts_root", Path)
# The room's services and loops, for tests and tools that drive a pass themselves.
MEDIA_ROOM: web.AppKey[MediaRoom] = web.AppKey("media_room")
