"""HTTP API and page of the media room: recordings and callback messages (listening is
role-checked and audited), the transcription queue, prompt upload. (The retention preview:
retention.http.)"""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path
from typing import Any, Final

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage

from recordings.access import MediaDenied, MediaNotFound, NoAudio, Use
from recordings.catalog import UnknownPromptError
from recordings.convert import AudioTooLargeError, AudioToolMissingError, NotAudioError
from recordings.keys import MEDIA, MediaServices
from recordings.models import MediaKind
from web.accounts import Role
from web.auth import current_user, json_error, require
from web.openapi import api_doc
from web.pages import page

TAGS: Final = ("recordings",)
PROMPT_TAGS: Final = ("prompts",)
LIMIT_MAX: Final = 500
KINDS: Final = {"all": tuple(MediaKind), **{k.value: (k,) for k in MediaKind}}
UPLOAD_FIELD: Final = "audio"
_CHUNK: Final = 256 * 1024
_SUFFIX: Final = re.compile(r"^\.[A-Za-z0-9]{1,5}$")

MEDIA_ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "kind": {"enum": [k.value for k in MediaKind]},
        "linkedid": {"type": "string"}, "stub_id": {"type": "string"},
        "state": {"enum": ["pending", "archived", "missing", "failed"]},
        "duration_seconds": {"type": ["number", "null"]},
        "transcript_state": {"enum": ["pending", "ok", "silent", "no_model", "error", None]},
        "transcript": {"type": ["string", "null"]}, "triage": {"type": ["object", "null"]},
    },
}


def _services(request: web.Request) -> MediaServices:
    return request.app[MEDIA]


def _media_id(request: web.Request) -> str:
    raw = request.match_info["media_id"]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise json_error(web.HTTPBadRequest, "not a recording id (a UUID)",
                         media_id=raw[:64]) from None


def _limit(request: web.Request, default: int = 100) -> int:
    raw = request.query.get("limit", str(default))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= LIMIT_MAX:
        raise json_error(web.HTTPBadRequest, f"limit must be 1 to {LIMIT_MAX}", field="limit",
                         value=raw[:16])
    return int(raw)


def _kinds(request: web.Request) -> tuple[MediaKind, ...]:
    raw = request.query.get("kind", "all")
    if raw not in KINDS:
        raise json_error(web.HTTPBadRequest, "unknown kind", field="kind", value=raw[:32],
                         allowed=sorted(KINDS))
    return KINDS[raw]


# --- recordings --------------------------------------------------------------------------------

@require(Role.SUPERVISOR, Role.AGENT)
@api_doc(
    "Recordings and callback messages you may hear (supervisors: all; agents: calls they "
    "answered, messages of callbacks they were given), newest first",
    tags=TAGS,
    query={"kind": {"enum": sorted(KINDS)}, "linkedid": {"type": "string"},
           "stub_id": {"type": "string"},
           "limit": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX}},
    response_schema={"type": "object",
                     "properties": {"recordings": {"type": "array", "items": MEDIA_ITEM}}},
)
async def list_recordings(request: web.Request) -> web.Response:
    found = await _services(request).recordings.execute(
        current_user(request), kinds=_kinds(request),
        linkedid=request.query.get("linkedid") or None,
        stub_id=request.query.get("stub_id") or None, limit=_limit(request),
    )
    return web.json_response({"recordings": found})


async def _audio(request: web.Request, use: Use, audited: bool) -> web.FileResponse:
    media_id = _media_id(request)
    try:
        found = await _services(request).open.execute(
            current_user(request), media_id, use, audited=audited
        )
    except MediaNotFound:
        raise json_error(web.HTTPNotFound, "no such recording", media_id=media_id) from None
    except MediaDenied:
        raise json_error(web.HTTPForbidden, "you may hear only recordings of calls you handled",
                         media_id=media_id) from None
    except NoAudio as exc:
        raise json_error(web.HTTPNotFound, str(exc), media_id=media_id) from None
    disposition = "attachment" if use is Use.DOWNLOAD else "inline"
    return web.FileResponse(found.path, headers={
        "Content-Type": found.content_type, "Cache-Control": "no-store",
        "Content-Disposition": f'{disposition}; filename="{found.filename}"',
    })


@require(Role.SUPERVISOR, Role.AGENT)
@api_doc("Play a recording (audio/ogg; range requests for seeking); audited as played",
         tags=TAGS, responses={403: "not a call you handled", 404: "no such recording or no audio"})
async def play_recording(request: web.Request) -> web.StreamResponse:
    # The audio element asks for the file in ranges while it plays: one listening, one entry
    # (the first range); a HEAD hears nothing.
    first = request.headers.get("Range", "bytes=0-").replace(" ", "").startswith("bytes=0-")
    return await _audio(request, Use.PLAY, audited=first and request.method == "GET")


@require(Role.SUPERVISOR, Role.AGENT)
@api_doc("Download a recording as a file; audited as downloaded", tags=TAGS,
         responses={403: "not a call you handled", 404: "no such recording or no audio"})
async def download_recording(request: web.Request) -> web.StreamResponse:
    return await _audio(request, Use.DOWNLOAD, audited=request.method == "GET")


# --- callback messages and their transcription --------------------------------------------------

@require(Role.SUPERVISOR)
@api_doc("Callback messages, newest first: transcript, suggested priority, callback status",
         tags=TAGS, query={"limit": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX}})
async def list_messages(request: web.Request) -> web.Response:
    services = _services(request)
    messages = await services.messages.execute(current_user(request), _limit(request))
    return web.json_response({"messages": messages,
                              "transcription": await services.progress.execute()})


@require(Role.SUPERVISOR)
@api_doc("The transcription queue: the worker's progress and messages by transcript state",
         tags=TAGS)
async def transcription_progress(request: web.Request) -> web.Response:
    return web.json_response(await _services(request).progress.execute())


@require(Role.SUPERVISOR)
@api_doc("Transcribe a callback message again (after an error, or once a model is installed)",
         tags=TAGS, responses={404: "no such message", 409: "the message has no audio"})
async def retry_transcript(request: web.Request) -> web.Response:
    media_id = _media_id(request)
    services = _services(request)
    try:
        media = await services.retry.execute(media_id)
    except KeyError:
        raise json_error(web.HTTPNotFound, "no such callback message", media_id=media_id) from None
    except ValueError as exc:
        raise json_error(web.HTTPConflict, str(exc), media_id=media_id) from None
    services.wake()
    return web.json_response(media.as_json())


# --- prompts -------------------------------------------------------------------------------

@require(Role.SUPERVISOR)
@api_doc("IVR prompts: ids, languages, texts, and which are real recordings", tags=PROMPT_TAGS)
async def list_prompts(request: web.Request) -> web.Response:
    return web.json_response(_services(request).prompts.execute())


@require(Role.SUPERVISOR)
@api_doc(
    "Replace a prompt in one language with an uploaded recording (multipart/form-data, field "
    "'audio': wav, mp3, ogg, flac or m4a); converted to 8 kHz and installed into the running "
    "Asterisk (takes_effect 'now'), or at its next start ('after_restart')",
    tags=PROMPT_TAGS,
    responses={404: "unknown prompt id or language", 413: "file too large or too long",
               415: "not multipart/form-data", 422: "not an audio file"},
)
async def upload_prompt(request: web.Request) -> web.Response:
    services = _services(request)
    prompt_id, lang = request.match_info["prompt_id"], request.match_info["lang"]
    details = {"prompt_id": prompt_id[:64], "lang": lang[:16]}
    with tempfile.TemporaryDirectory(prefix="prompt-upload-") as tmp:
        upload = await _receive_upload(request, Path(tmp), services.upload_limit_bytes, details)
        try:
            replaced = await services.replace_prompt.execute(
                current_user(request).username, prompt_id, lang, upload
            )
        except UnknownPromptError as exc:
            raise json_error(web.HTTPNotFound, str(exc), **details) from None
        except NotAudioError as exc:
            raise json_error(web.HTTPUnprocessableEntity, "the file is not audio",
                             reason=str(exc), **details) from None
        except AudioTooLargeError as exc:
            raise _too_large(str(exc), services.upload_limit_bytes, upload.stat().st_size,
                             details) from None
        except AudioToolMissingError as exc:
            raise json_error(web.HTTPServiceUnavailable, str(exc), **details) from None
    return web.json_response(replaced.as_json())


async def _receive_upload(
    request: web.Request, folder: Path, limit: int, details: dict[str, Any]
) -> Path:
    """The uploaded file, written to `folder` as it arrives; refused once over `limit`."""
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise _too_large("the upload is too large", limit, request.content_length, details)
    if not request.content_type.startswith("multipart/"):
        raise json_error(web.HTTPUnsupportedMediaType,
                         f"send multipart/form-data with the file in field '{UPLOAD_FIELD}'",
                         **details)
    part = await _audio_part(request, details)
    suffix = Path(part.filename or "").suffix
    target = folder / f"upload{suffix if _SUFFIX.match(suffix) else ''}"
    size = 0
    with target.open("wb") as out:
        while chunk := await part.read_chunk(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large("the upload is too large", limit, size, details)
            out.write(chunk)
    if size == 0:
        raise json_error(web.HTTPUnprocessableEntity, "the file is empty", **details)
    return target


def _too_large(
    message: str, limit: int, actual: int, details: dict[str, Any]
) -> web.HTTPRequestEntityTooLarge:
    body = {"error": message, "max_bytes": limit, **details}
    return web.HTTPRequestEntityTooLarge(
        max_size=limit, actual_size=actual, text=web.json_response(body).text,
        content_type="application/json",
    )


async def _audio_part(request: web.Request, details: dict[str, Any]) -> BodyPartReader:
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name == UPLOAD_FIELD:
                return part
    except (ValueError, BadHttpMessage) as exc:
        # A body that only claims to be multipart: no boundary, or megabytes without one.
        raise json_error(web.HTTPBadRequest, "the body is not a readable multipart/form-data",
                         reason=type(exc).__name__, **details) from None
    raise json_error(web.HTTPBadRequest, f"no file in field '{UPLOAD_FIELD}'", **details)


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/recordings", page("recordings.html", Role.SUPERVISOR, Role.AGENT))
    r.add_get("/api/recordings", list_recordings)
    r.add_get("/api/recordings/{media_id}/audio", play_recording)
    r.add_get("/api/recordings/{media_id}/download", download_recording)
    r.add_get("/api/callback-messages", list_messages)
    r.add_get("/api/transcriptions", transcription_progress)
    r.add_post("/api/transcriptions/{media_id}/retry", retry_transcript)
    r.add_get("/api/prompts", list_prompts)
    r.add_post("/api/prompts/{prompt_id}/{lang}", upload_prompt)
