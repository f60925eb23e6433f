"""Keyword triage: which priority and problem types the words of a message suggest.

Thai is written without spaces between words, so a plain substring search would find "ขอทาน"
(begging) inside "ขอทานข้าว" (asking to eat) and "rape" inside "grape". Text and keywords are
both cut into words with pythainlp's dictionary tokenizer ("newmm", offline) and a keyword
matches only as a whole sequence of words. The result is a suggestion shown to the agent.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from pythainlp.corpus.common import thai_words
from pythainlp.tokenize import word_tokenize
from pythainlp.util import Trie, dict_trie

from .thai_text import normalize_text

Priority = Literal["critical", "urgent", "normal"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
_RANK: Mapping[str, int] = {p: len(PRIORITIES) - i for i, p in enumerate(PRIORITIES)}
LANGUAGES = ("th", "en")
_THAI = re.compile("[\u0e00-\u0e7f]")
_LATIN_WORD = re.compile(r"\w+")
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "config" / "triage_keywords.toml"


class KeywordFileError(ValueError):
    """The keyword file is malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class KeywordRule:
    keyword: str
    lang: str
    tokens: tuple[str, ...]
    problem_types: tuple[str, ...]
    priority: Priority


@dataclass(frozen=True)
class KeywordHit:
    keyword: str
    lang: str
    priority: Priority
    problem_types: tuple[str, ...]
    # Index of the first matching word in the tokenized text.
    position: int


@dataclass(frozen=True)
class Suggestion:
    """Highest priority among the hits ("normal" when none) and their problem types."""

    priority: Priority
    problem_types: tuple[str, ...]
    matched: tuple[KeywordHit, ...]

    @property
    def matched_keywords(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(hit.keyword for hit in self.matched))

    @property
    def empty(self) -> bool:
        return not self.matched


def _is_word(token: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LNM" for ch in token)


def _words(token: str) -> list[str]:
    # newmm keeps "self-harm" whole; split Latin tokens at punctuation so that it matches
    # "self harm" alike. Thai tokens stay whole: their vowel marks are not \w characters.
    if _THAI.search(token):
        return [token]
    return _LATIN_WORD.findall(token)


def tokenize(text: str, trie: Trie) -> list[str]:
    """Normalised, lower-cased words of `text` (punctuation dropped)."""
    clean = normalize_text(text).casefold()
    tokens = word_tokenize(clean, custom_dict=trie, engine="newmm", keep_whitespace=False)
    return [w for t in tokens if _is_word(t) for w in _words(t)]


class KeywordMatcher:
    def __init__(self, raw_rules: Sequence[tuple[str, str, tuple[str, ...], Priority]]) -> None:
        """`raw_rules`: (keyword, lang, problem_types, priority), as `load` reads them."""
        thai = {normalize_text(k) for k, lang, _, _ in raw_rules if lang == "th"}
        # Compound Thai keywords join the dictionary so "ค้ามนุษย์" stays one word in a sentence.
        self._trie = dict_trie(set(thai_words()) | {k for k in thai if " " not in k})
        self.rules = tuple(self._rule(*r) for r in raw_rules)
        self._by_first: dict[str, list[KeywordRule]] = {}
        for rule in self.rules:
            self._by_first.setdefault(rule.tokens[0], []).append(rule)

    def _rule(
        self, keyword: str, lang: str, types: tuple[str, ...], priority: Priority
    ) -> KeywordRule:
        tokens = tuple(tokenize(keyword, self._trie))
        if not tokens:
            raise KeywordFileError(f"keyword {keyword!r} has no words")
        return KeywordRule(keyword, lang, tokens, types, priority)

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> KeywordMatcher:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise KeywordFileError(f"{path}: {exc}") from exc
        return cls(list(_parse_rules(data, path)))

    def hits(self, text: str) -> list[KeywordHit]:
        tokens = tokenize(text, self._trie)
        found: list[KeywordHit] = []
        for i, token in enumerate(tokens):
            for rule in self._by_first.get(token, ()):
                if tuple(tokens[i : i + len(rule.tokens)]) == rule.tokens:
                    found.append(KeywordHit(
                        rule.keyword, rule.lang, rule.priority, rule.problem_types, i
                    ))
        return found

    def suggest(self, text: str) -> Suggestion:
        found = self.hits(text)
        if not found:
            return Suggestion("normal", (), ())
        priority = max((h.priority for h in found), key=_RANK.__getitem__)
        types = dict.fromkeys(t for h in found for t in h.problem_types)
        return Suggestion(priority, tuple(types), tuple(found))


def _parse_rules(
    data: Mapping[str, Any], path: Path
) -> Iterable[tuple[str, str, tuple[str, ...], Priority]]:
    for n, rule in enumerate(data.get("rules", []), start=1):
        where = f"{path} rule {n}"
        types = tuple(rule.get("problem_types", ()))
        unknown = set(types) - problem_type_ids()
        if not types or unknown:
            raise KeywordFileError(f"{where}: unknown or missing problem_types {sorted(unknown)}")
        priority = rule.get("priority")
        if priority not in PRIORITIES:
            raise KeywordFileError(f"{where}: priority must be one of {PRIORITIES}")
        for lang in LANGUAGES:
            for keyword in rule.get(lang, []):
                yield str(keyword), lang, types, priority


def problem_type_ids() -> frozenset[str]:
    """The taxonomy's problem-type ids: a keyword rule naming another id is a typo that would
    silently never count in a report."""
    from outcomes.taxonomy import taxonomy

    return frozenset(taxonomy().problem_types.ids)


@cache
def default_matcher() -> KeywordMatcher:
    """The matcher for config/triage_keywords.toml, built once (the dictionary takes ~0.5 s)."""
    return KeywordMatcher.load()


def suggest(text: str) -> Suggestion:
    """Suggested priority and problem types for `text` (Thai and/or English)."""
    return default_matcher().suggest(text)
