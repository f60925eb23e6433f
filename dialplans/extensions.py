"""extensions.conf: the IVR, generated from config/routing.toml and config/ivr.toml.

Where a call goes is decided by `ivr.routing_table` (printed by `python -m ivr show`); this
module writes that table into the dialplan as global variables (``L1300_Q_<line>_<lang>_<option>``)
and generates the contexts that walk a caller through greeting, language, menu, the language
fallback, the queue, the callback request and the satisfaction survey. Static Asterisk logic
that does not depend on the definition lives in templates/extensions.conf.

Every step is reported twice (``UserEvent`` and ``CELGenUserEvent``, see ivr/events.py) by the
Gosub ``line1300-report``; every prompt goes through `DialplanBuilder.prompt` so the start-up
check (ivr/check.py) knows exactly which files the dialplan can play.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from agent_routing.skills import RoutingDefinition, SkillQueue, routing
from ivr.definition import IvrDefinition, LineFlow, ivr_definition
from ivr.events import CALLBACK_EVENT, IVR_EVENT, Line, Priority
from ivr.routing_table import RoutingTable, build_table
from recordings.numbers import MAX_SPOKEN, number_fragments, position_prompts, wait_prompts

from .dids import did_aliases
from .params import RenderParams
from .templating import fill

# Every language the caller may have chosen: a prompt used with this marker must exist in all.
CALLER_LANGUAGE = "*"
LANG_VAR = "${L1300_LANG}"
# Seconds the callback context lets the caller's phone ring.
CALLBACK_RING_SECONDS = 45
HOURS = range(24)
# Positions and minutes are looked up by number; above MAX_SPOKEN the caller hears "more than".
SPOKEN = range(1, MAX_SPOKEN + 2)
DIGITS = "0123456789"


@dataclass(frozen=True)
class PromptUse:
    language: str  # a language code, or CALLER_LANGUAGE
    prompt_id: str


@dataclass(frozen=True)
class DialplanPaths:
    """Folders as Asterisk sees them."""

    recordings: PurePosixPath
    callback_messages: PurePosixPath
    # The zone of the folders' dates (STRFTIME's); "" = Asterisk's own local time.
    timezone: str = ""

    @classmethod
    def for_params(cls, params: RenderParams) -> DialplanPaths:
        return cls(params.recordings_dir, callback_messages_dir(params), params.timezone)


def callback_messages_dir(params: RenderParams) -> PurePosixPath:
    """Where callback messages are recorded, below a dated ``YYYY/MM/DD/`` layout."""
    return params.spool_dir / "callbacks"


@dataclass
class Dialplan:
    text: str
    prompts: frozenset[PromptUse]


def render_extensions(params: RenderParams) -> str:
    return build_dialplan(DialplanPaths.for_params(params)).text


def build_dialplan(
    paths: DialplanPaths,
    ivr: IvrDefinition | None = None,
    definition: RoutingDefinition | None = None,
) -> Dialplan:
    builder = DialplanBuilder(ivr or ivr_definition(), definition or routing(), paths)
    return builder.build()


@dataclass
class _Context:
    name: str
    comment: str
    lines: list[str] = field(default_factory=list)

    def exten(self, exten: str, *steps: str) -> None:
        """One extension; a step "(label)App(...)" gets a priority label."""
        for index, step in enumerate(steps):
            label = ""
            if step.startswith("("):
                label, step = step[: step.index(")") + 1], step[step.index(")") + 1 :]
            head = f"exten => {exten},1" if index == 0 else " same => n"
            self.lines.append(f"{head}{label},{step}")

    def render(self) -> str:
        return "\n".join([f"; {self.comment}", f"[{self.name}]", *self.lines])


class DialplanBuilder:
    """Generates the definition-dependent contexts; collects every prompt it references."""

    def __init__(
        self, ivr: IvrDefinition, definition: RoutingDefinition, paths: DialplanPaths
    ) -> None:
        self.ivr = ivr
        self.definition = definition
        self.paths = paths
        self.table: RoutingTable = build_table(ivr, definition)
        self.prompts: set[PromptUse] = set()

    def build(self) -> Dialplan:
        contexts = [
            self._from_trunk(),
            *(self._line_entry(flow) for flow in self.ivr.lines.values()),
            self._menu(),
            self._fallback_offer(),
            self._callback_number(),
            self._callback_when(),
            self._queue_exit(),
        ]
        text = fill(
            "extensions.conf",
            {
                "globals": "\n".join(self._globals()),
                "generated": "\n\n".join(c.render() for c in contexts),
                **self._template_values(),
            },
        )
        return Dialplan(text, frozenset(self.prompts))

    # --- prompts --------------------------------------------------------------------------

    def prompt(self, prompt_id: str, language: str = CALLER_LANGUAGE) -> str:
        self.prompts.add(PromptUse(language, prompt_id))
        folder = LANG_VAR if language == CALLER_LANGUAGE else language
        return f"line1300/{folder}/{prompt_id}"

    def offer(self, prompt_id: str, key: str, language: str = CALLER_LANGUAGE) -> list[str]:
        """A prompt offering a key, then the key's spoken digit."""
        return [self.prompt(prompt_id, language), self.digit(key, language)]

    def offers(self, *offers: tuple[str, str]) -> str:
        """Several (prompt, key) offers as one "&" list of files."""
        return "&".join(f for prompt_id, key in offers for f in self.offer(prompt_id, key))

    def digit(self, key: str, language: str = CALLER_LANGUAGE) -> str:
        return self.prompt(self.ivr.prompts.digit_prompt(key), language)

    # --- globals: the routing table and what the template's logic looks up ----------------

    def _globals(self) -> list[str]:
        policy = self.definition.ivr
        lines = [
            f"L1300_DEFAULT_QUEUE={policy.default_queue}",
            f"L1300_DEFAULT_OPTION={self.table.default_option}",
            f"L1300_EMERGENCY_OPTION={self.table.emergency_option}",
            f"L1300_FALLBACK_LANG={policy.fallback_language}",
            f"L1300_RECORDINGS_DIR={self.paths.recordings}",
            f"L1300_MESSAGES_DIR={self.paths.callback_messages}",
            f"L1300_TZ={self.paths.timezone}",
            f"L1300_DOMESTIC_DID={policy.domestic_did}",
            f"L1300_INTERNATIONAL_DID={policy.international_did}",
        ]
        lines += [f"L1300_PRIO_{o.id}={o.priority}" for o in self.ivr.menu]
        lines += [f"L1300_QPRIO_{p}={n}" for p, n in self.ivr.queue_priorities.items()]
        lines += [f"L1300_REC_{q.name}={int(q.record)}" for q in self.definition.queues]
        lines += [
            f"L1300_Q_{r.line}_{r.language}_{r.option}={r.queue}\n"
            f"L1300_FQ_{r.line}_{r.language}_{r.option}={r.fallback_queue}"
            for r in self.table
        ]
        lines += self._spoken_numbers()
        return lines

    def _spoken_numbers(self) -> list[str]:
        """Prompt chains for the numbers the dialplan speaks, keyed by language and number."""
        lines = []
        for lang in self.definition.languages:
            lines += [
                f"L1300_HOUR_{lang}_{h}={self._chain(number_fragments(lang, h), lang)}"
                for h in HOURS
            ]
            lines += [
                f"L1300_POS_{lang}_{n}={self._chain(position_prompts(lang, n), lang)}"
                for n in SPOKEN
            ]
            lines += [
                f"L1300_WAIT_{lang}_{n}={self._chain(wait_prompts(lang, n), lang)}" for n in SPOKEN
            ]
        return lines

    def _chain(self, prompt_ids: Iterable[str], language: str) -> str:
        return "&".join(self.prompt(p, language) for p in prompt_ids)

    def _template_values(self) -> dict[str, object]:
        t, keys, p = self.ivr.timing, self.ivr.callback, self.ivr.prompts
        return {
            "ivr_event": IVR_EVENT,
            "callback_event": CALLBACK_EVENT,
            "menu_timeout": t.menu_timeout,
            "menu_attempts": t.menu_attempts,
            "number_timeout": t.number_timeout,
            "number_max_digits": t.number_max_digits,
            "message_max_seconds": t.message_max_seconds,
            "message_silence_seconds": t.message_silence_seconds,
            "survey_timeout": t.survey_timeout,
            "announce_seconds": t.queue_announce_seconds,
            "max_spoken": MAX_SPOKEN,
            "queue_callback_prompts": self.offers(
                (p.queue_callback_option, keys.queue_callback_key)
            ),
            "confirm_key": keys.confirm_key,
            "retry_key": keys.retry_key,
            "callback_ring_seconds": CALLBACK_RING_SECONDS,
            "invalid_prompt": self.prompt(p.invalid),
            "no_input_prompt": self.prompt(p.no_input),
            "emergency_prompt": self.prompt(p.emergency),
            "connecting_prompt": self.prompt(p.connecting),
            "default_queue_prompt": self.prompt(p.default_queue),
            "record_prompt": self.prompt(p.callback_record),
            "enter_number_prompt": self.prompt(p.callback_enter_number),
            "number_is_prompt": self.prompt(p.callback_number_is),
            "confirm_prompts": self.offers(
                (p.callback_confirm_option, keys.confirm_key),
                (p.callback_retry_option, keys.retry_key),
            ),
            "callback_thanks_prompt": self.prompt(p.callback_thanks),
            "survey_prompt": self.prompt(p.survey_question),
            "survey_thanks_prompt": self.prompt(p.survey_thanks),
            **self._digit_values(),
        }

    def _digit_values(self) -> dict[str, str]:
        # Reading a number back plays digit prompts by computed name: declare them all here.
        for d in DIGITS:
            self.digit(d)
        prefix, _, suffix = self.prompt(self.ivr.prompts.digit, CALLER_LANGUAGE).partition("{d}")
        self.prompts.discard(PromptUse(CALLER_LANGUAGE, self.ivr.prompts.digit))
        return {"digits": DIGITS, "digit_prompt_prefix": prefix, "digit_prompt_suffix": suffix}

    # --- contexts -------------------------------------------------------------------------

    def _from_trunk(self) -> _Context:
        ctx = _Context(
            "from-trunk", "Calls from the carrier trunk, by DID (every form it may send)."
        )
        for flow in self.ivr.lines.values():
            for alias in did_aliases(flow.did):
                ctx.exten(alias, f"Goto(line1300-{flow.line},s,1)")
        unknown = self.ivr.lines[Line.DOMESTIC]
        ctx.exten(
            "_[+0-9].",
            "Log(WARNING,Unknown DID ${EXTEN}: served as the domestic line)",
            f"Goto(line1300-{unknown.line},s,1)",
        )
        ctx.exten("s", f"Goto(line1300-{unknown.line},s,1)")
        return ctx

    def _line_entry(self, flow: LineFlow) -> _Context:
        ctx = _Context(
            f"line1300-{flow.line}", f"Line {flow.line} ({flow.did}): greeting, language."
        )
        language_wait = (
            self.ivr.timing.language_timeout
            if flow.language_mode == "switch"
            else self.ivr.timing.menu_timeout
        )
        ctx.exten(
            "s",
            f"Set(__L1300_LINE={flow.line})",
            f"Set(__L1300_DIALED={flow.did})",
            f"Gosub(line1300-start,s,1({flow.default_language}))",
            "Set(L1300_TRIES=0)",
            f"(greet)Background({'&'.join(self.greeting_files(flow))})",
            f"WaitExten({language_wait})",
        )
        for lang in self.definition.languages.values():
            ctx.exten(
                lang.ivr_key,
                f"Gosub(line1300-language,s,1({lang.code}))",
                "Goto(line1300-menu,s,1)",
            )
        ctx.exten(self.definition.ivr.emergency_key, "Goto(line1300-emergency,s,1)")
        if flow.language_mode == "switch":
            # No key: the caller stays in the greeting's language; that is not an error.
            ctx.exten("t", "Goto(line1300-menu,s,1)")
            ctx.exten(
                "i",
                "Gosub(line1300-report,s,1(invalid,Selection: ${INVALID_EXTEN}))",
                "Goto(line1300-menu,s,1)",
            )
        else:
            ctx.exten("t", "Gosub(line1300-retry,s,1(no_input))", "Goto(s,greet)")
            ctx.exten("i", "Gosub(line1300-retry,s,1(invalid,${INVALID_EXTEN}))", "Goto(s,greet)")
        return ctx

    def greeting_files(self, flow: LineFlow) -> list[str]:
        """What a line plays before the language choice, in order."""
        emergency_key = self.definition.ivr.emergency_key
        prompts = self.ivr.prompts
        files: list[str] = []
        for code in flow.greeting_languages:
            files.append(self.prompt(flow.greeting, code))
            files += self.offer(prompts.emergency_option, emergency_key, code)
        if flow.language_mode == "choose":
            files += [
                self.prompt(prompts.choose_language, code) for code in flow.greeting_languages
            ]
        offered = [
            lang
            for lang in self.definition.languages.values()
            if flow.language_mode == "choose" or lang.code != flow.default_language
        ]
        for lang in offered:
            files += self.offer(prompts.language_option, lang.ivr_key, lang.code)
        return files

    def menu_files(self) -> list[str]:
        """The main menu, in order (paths with the caller's language as ${L1300_LANG})."""
        return [f for o in self.ivr.menu for f in self.offer(o.prompt, o.digit)]

    def _menu(self) -> _Context:
        ctx = _Context("line1300-menu", "Main menu, in the caller's language (L1300_LANG).")
        files = "&".join(self.menu_files())
        ctx.exten(
            "s",
            "Set(L1300_TRIES=0)",
            f"(menu)Background({files})",
            f"WaitExten({self.ivr.timing.menu_timeout})",
        )
        for option in self.ivr.menu:
            ctx.exten(
                option.digit, f"Gosub(line1300-choose,s,1({option.id}))", "Goto(line1300-route,s,1)"
            )
        ctx.exten(self.definition.ivr.emergency_key, "Goto(line1300-emergency,s,1)")
        ctx.exten("t", "Gosub(line1300-retry,s,1(no_input))", "Goto(s,menu)")
        ctx.exten("i", "Gosub(line1300-retry,s,1(invalid,${INVALID_EXTEN}))", "Goto(s,menu)")
        return ctx

    def _fallback_offer(self) -> _Context:
        keys, p = self.ivr.callback, self.ivr.prompts
        ctx = _Context(
            "line1300-fallback",
            "Nobody who speaks the caller's language is on shift: the English desk or a callback.",
        )
        ctx.exten(
            "s",
            "Set(L1300_TRIES=0)",
            "Gosub(line1300-on-shift,s,1(${L1300_FBQUEUE}))",
            'Set(L1300_DESK_OPEN=$[${GOSUB_RETVAL} & "${L1300_LANG}" != "${L1300_FALLBACK_LANG}"])',
            "Gosub(line1300-report,s,1(fallback_offered,Queue: ${L1300_QUEUE}))",
            f"(offer)Background({self.prompt(p.fallback_no_agent)})",
            "GotoIf($[!${L1300_DESK_OPEN}]?callback)",
            f"Background({self.offers((p.fallback_desk_option, keys.fallback_desk_key))})",
            f"(callback)Background({self.offers((p.fallback_callback_option, keys.callback_key))})",
            f"WaitExten({self.ivr.timing.menu_timeout})",
        )
        ctx.exten(
            keys.fallback_desk_key,
            "GotoIf($[!${L1300_DESK_OPEN}]?i,1)",
            "Goto(line1300-fallback-desk,s,1)",
        )
        ctx.exten(
            keys.callback_key,
            "Gosub(line1300-report,s,1(fallback,Fallback: callback))",
            "Goto(line1300-callback-request,s,1)",
        )
        ctx.exten(self.definition.ivr.emergency_key, "Goto(line1300-emergency,s,1)")
        ctx.exten("t", "Gosub(line1300-fallback-retry,s,1(no_input))", "Goto(s,offer)")
        ctx.exten(
            "i", "Gosub(line1300-fallback-retry,s,1(invalid,${INVALID_EXTEN}))", "Goto(s,offer)"
        )
        return ctx

    def _callback_when(self) -> _Context:
        p = self.ivr.prompts
        ctx = _Context("line1300-callback-when", "Tells the caller when they will be called back.")
        ctx.exten(
            "s",
            f"Playback({self.prompt(p.callback_when_on_shift)})",
            "Gosub(line1300-on-shift,s,1(${L1300_QUEUE}))",
            "GotoIf($[${GOSUB_RETVAL}]?done)",
            # Set by the controller: the hour (0-23) someone who speaks the language next starts.
            "Set(L1300_HOUR=${L1300_HOUR_${L1300_LANG}_${GLOBAL(L1300_NEXT_SHIFT_${L1300_LANG})}})",
            'GotoIf($["${L1300_HOUR}" = ""]?done)',
            f"Playback({self.prompt(p.callback_from_hour)}&${{L1300_HOUR}}&"
            f"{self.prompt(p.callback_hour_suffix)})",
            "(done)Return()",
        )
        return ctx

    def _callback_number(self) -> _Context:
        ctx = _Context(
            "line1300-callback-number",
            "ARG1 = keyed digits; returns the number to call back (the caller ID if none keyed).",
        )
        steps = [
            "Set(L1300_N=${FILTER(0123456789*,${ARG1})})",
            'GotoIf($["${L1300_N}" = ""]?callerid)',
        ]
        for index, prefix in enumerate(self.ivr.callback.international_prefixes):
            steps.append(f'GotoIf($["${{L1300_N:0:{len(prefix)}}}" = "{prefix}"]?intl{index})')
        steps.append("Return(${FILTER(0123456789,${L1300_N})})")
        for index, prefix in enumerate(self.ivr.callback.international_prefixes):
            steps.append(
                f"(intl{index})Return(+${{FILTER(0123456789,${{L1300_N:{len(prefix)}}})}})"
            )
        steps.append("(callerid)Return(${FILTER(+0123456789,${CALLERID(num)})})")
        ctx.exten("s", *steps)
        return ctx

    def _queue_exit(self) -> _Context:
        ctx = _Context(
            QUEUE_EXIT_CONTEXT,
            "queues.conf context=: a key pressed while waiting leaves the queue.",
        )
        ctx.exten(
            self.ivr.callback.queue_callback_key,
            "Gosub(line1300-announcer-off,s,1)",
            "Gosub(line1300-report,s,1(queue_callback_key,Queue: ${L1300_QUEUE}))",
            "Goto(line1300-callback-request,s,1)",
        )
        ctx.exten(
            self.definition.ivr.emergency_key,
            'GotoIf($["${L1300_PRIORITY}" = "critical"]?line1300-queue,s,enter)',
            "Goto(line1300-emergency,s,1)",
        )
        return ctx


QUEUE_EXIT_CONTEXT = "line1300-queue-exit"
# queues.conf weight of a queue only emergency callers reach: when one counsellor is free and
# callers wait in several of her queues, the emergency queue's caller is served first.
EMERGENCY_QUEUE_WEIGHT = 10


def queue_options(
    queue: SkillQueue, ivr: IvrDefinition | None = None, definition: RoutingDefinition | None = None
) -> dict[str, object]:
    """What the IVR needs in a queue's queues.conf section.

    The IVR announces position, wait and the callback key itself (a periodic hook in the
    caller's language, see line1300-queue-announce), so app_queue's own announcements are off;
    `context` lets a key pressed while waiting leave the queue (line1300-queue-exit).
    """
    table = build_table(ivr or ivr_definition(), definition or routing())
    critical = {r.queue for r in table if r.priority is Priority.CRITICAL}
    other = {r.queue for r in table if r.priority is not Priority.CRITICAL}
    return {
        "context": QUEUE_EXIT_CONTEXT,
        "weight": EMERGENCY_QUEUE_WEIGHT if queue.name in critical - other else 0,
        "announce-position": "no",
        "announce-frequency": 0,
        "periodic-announce-frequency": 0,
    }


def all_prompt_uses(languages: Iterable[str], uses: Iterable[PromptUse]) -> set[tuple[str, str]]:
    """(language, prompt id) pairs that must exist, the caller-language marker expanded."""
    wanted: set[tuple[str, str]] = set()
    langs: Sequence[str] = tuple(languages)
    for use in uses:
        targets = langs if use.language == CALLER_LANGUAGE else (use.language,)
        wanted.update((lang, use.prompt_id) for lang in targets)
    return wanted
