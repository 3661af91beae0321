"""Which rule keys have a word-bounded match in a text, without running every key's union over it.

Python's regular expressions try each alternative of a union at every word start, so sixteen keys
of dozens of patterns cost hundreds of attempts per word. Here each pattern is told by what its
matches can begin with (up to five characters, read from the pattern's own parse tree); a text is
scanned once for the places not preceded by a word character where one of the beginnings stands
(all of them as one trie: an emoji's as well as a word's), and a key is tried only there,
anchored, as one alternation of its patterns that begin so. A pattern whose beginning cannot be
told (a class such as \\w, a flag, a repeat that may match nothing) makes its key searched whole,
as before; \\d is told as 0-9 and searched whole in a text with other digits.
The result is exactly that of each key's `(?<!\\w)(?:p1|p2|...)(?!\\w)`.search:
tests/unit/sync/test_lead_matcher.py holds it.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

# The parser behind re.compile (public as sre_parse before 3.11, untyped): the patterns' own trees.
_parser: Any = importlib.import_module("re._parser")
c: Any = importlib.import_module("re._constants")

_WIDTHS = (5, 4, 3, 2, 1)  # characters a pattern's beginning is told by, longest first
_MAX_PREFIXES = 96    # a pattern beginning more ways than this is searched whole
_MAX_STEPS = 400     # parse-tree steps (and recursion depth) spent on one pattern before it is searched whole
_HEADS_KEPT = 100_000
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")
_ZERO_WIDTH = {c.AT, c.ASSERT, c.ASSERT_NOT}   # they only restrict where a match begins


# Compiled patterns are immutable and the packs share most of theirs: every load_rules (a run, an
# evaluation, a reclassification) reuses them, where re's own cache (512) would be overrun.
@functools.lru_cache(maxsize=16_384)
def bounded(pattern: str) -> re.Pattern[str]:
    # The lookbehind sits outside the alternation so mid-word positions fail fast.
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)")


@functools.lru_cache(maxsize=16_384)
def _alternation(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """bounded() of the patterns' union, cached by the tuple (whose hash is its strings' own)."""
    return bounded("|".join(f"(?:{p})" for p in patterns))


def _charset(items: list[tuple[Any, Any]], state: list[int]) -> set[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op == c.CATEGORY and av == c.CATEGORY_DIGIT:
            chars.update("0123456789")   # told for texts with ASCII digits only: see matching()
            state[1] = 1
        elif op == c.LITERAL:
            chars.add(chr(av))
        elif op == c.RANGE and av[1] - av[0] < _MAX_PREFIXES:
            chars.update(chr(code) for code in range(av[0], av[1] + 1))
        else:  # a negated set, a category (\w, \s: Unicode-wide)
            return None
    return chars


def _prefixes(items: list[tuple[Any, Any]], width: int, steps: list[int]) -> set[str] | None:
    """Every string of `width` characters a match of this sequence (followed by anything) can
    begin with, or None where that cannot be enumerated. steps: [steps left, \\d read]."""
    if width == 0:
        return {""}
    steps[0] -= 1
    if not items or steps[0] < 0:
        return None
    (op, av), rest = items[0], items[1:]
    heads: list[tuple[set[str], list[tuple[Any, Any]]]] = []   # (first characters, what follows them)
    if op == c.LITERAL:
        heads.append(({chr(av)}, rest))
    elif op == c.IN:
        chars = _charset(av, steps)
        if chars is None:
            return None
        heads.append((chars, rest))
    elif op in _ZERO_WIDTH:
        return _prefixes(rest, width, steps)
    elif op == c.SUBPATTERN:
        _group, add_flags, del_flags, body = av
        if add_flags or del_flags:
            return None
        return _prefixes(list(body) + rest, width, steps)
    elif op == c.BRANCH:
        return _union(_prefixes(list(alt) + rest, width, steps) for alt in av[1])
    elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
        low, high, body = av
        if high == 0:
            return _prefixes(rest, width, steps)
        again = [(op, (max(low - 1, 0), high if high == c.MAXREPEAT else high - 1, body))]
        once = _prefixes(list(body) + again + rest, width, steps)
        return once if low > 0 else _union([once, _prefixes(rest, width, steps)])
    else:
        return None
    found: set[str] = set()
    for chars, following in heads:
        tails = _prefixes(following, width - 1, steps)
        if tails is None:
            return None
        found.update(ch + tail for ch in chars for tail in tails)
        if len(found) > _MAX_PREFIXES:
            return None
    return found


def _union(parts: Iterable[set[str] | None]) -> set[str] | None:
    found: set[str] = set()
    for part in parts:
        if part is None:
            return None
        found |= part
        if len(found) > _MAX_PREFIXES:
            return None
    return found


def prefixes(pattern: str, width: int) -> frozenset[str] | None:
    """The `width`-character beginnings of a pattern's matches, or None."""
    return _beginnings(pattern, width)[0]


@functools.lru_cache(maxsize=16_384)
def _beginnings(pattern: str, *widths: int) -> tuple[frozenset[str] | None, bool]:
    """The longest beginnings (of one of these widths) a pattern's matches can be told by, and
    whether they stand for \\d as ASCII digits."""
    parsed = _parser.parse(pattern)
    if parsed.state.flags & ~(re.UNICODE):
        return None, False
    for width in widths or _WIDTHS:
        state = [_MAX_STEPS, 0]   # steps left, \\d read as ASCII digits
        found = _prefixes(list(parsed), width, state)
        if found is not None:
            return frozenset(found), bool(state[1])
    return None, False


def _starts_of(beginnings: Iterable[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The non-word characters followed by one of the beginnings, found in one scan of a text with
    a space put before it: the places after them are where a bounded match can begin (the
    beginnings as a trie: a few branches a character instead of hundreds of alternatives a word;
    the scan starting with a character class lets the regex engine skip along in C to the next
    non-word character instead of trying a lookbehind at every position). Two scans: one for ASCII
    texts, where a non-word character is told by a plain set instead of Unicode's tables, and one
    for any text."""
    tree: dict[str, Any] = {}
    for word in beginnings:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        if "" in node:  # a shorter beginning ends here: it stands for the longer ones
            return ""
        alternatives = [re.escape(char) + branch(child) for char, child in sorted(node.items())]
        return alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"

    trie = branch(tree)
    return re.compile(rf"[^0-9A-Za-z_](?={trie})"), re.compile(rf"\W(?={trie})", re.DOTALL)


class KeywordIndex:
    """Word-bounded matching of several keys' pattern lists: at each place where one of the
    patterns' beginnings stands, only the patterns beginning so are tried, anchored there, each
    compiled once with the index. matching() returns the keys' bits (`bits[key]`)."""

    def __init__(self, lists: Mapping[str, Iterable[str]]) -> None:
        self.bits: dict[str, int] = {}
        self._patterns: list[re.Pattern[str]] = []   # each key's bounded union: for a search in full
        # a beginning -> (key bit, a pattern of the key beginning so)
        self._told: dict[str, list[tuple[int, str]]] = {}
        self._always = 0                    # the keys with a pattern whose beginning cannot be told
        self._ascii_digits = 0              # the keys told by \\d as 0-9: searched whole in other texts
        self._heads: dict[str, tuple[tuple[int, re.Pattern[str]], ...]] = {}  # what stands at a start -> tries
        for index, (key, patterns) in enumerate(lists.items()):
            patterns = list(patterns)
            bit = self.bits[key] = 1 << index
            self._patterns.append(_alternation(tuple(patterns)))
            for pattern in patterns:
                found, digits = _beginnings(pattern)
                if found is None:
                    self._always |= bit
                    continue
                if digits:
                    self._ascii_digits |= bit
                for beginning in found:
                    self._told.setdefault(beginning, []).append((bit, pattern))
        self._widths = sorted({len(beginning) for beginning in self._told})
        self._ascii_starts: re.Pattern[str] | None = None
        self._any_starts: re.Pattern[str] | None = None
        if self._told:
            self._ascii_starts, self._any_starts = _starts_of(self._told)

    def _candidates(self, head: str) -> tuple[tuple[int, re.Pattern[str]], ...]:
        """One try per key: the bounded alternation of its patterns that begin as head does."""
        if len(self._heads) > _HEADS_KEPT:
            self._heads.clear()
        by_key: dict[int, dict[str, None]] = {}
        for width in self._widths:
            for bit, pattern in self._told.get(head[:width], ()):
                by_key.setdefault(bit, {})[pattern] = None
        found = self._heads[head] = tuple((bit, _alternation(tuple(patterns))) for bit, patterns in by_key.items())
        return found

    def matching(self, text: str) -> int:
        """The bits of the keys with a word-bounded match somewhere in the text."""
        heads = self._heads
        done = 0
        # a match at j of " " + text stands for a place j of the text after a non-word character
        told_starts = self._ascii_starts if text.isascii() else self._any_starts
        for start in told_starts.finditer(" " + text) if told_starts else ():
            at = start.start()
            head = text[at:at + 5]
            tries = heads.get(head)
            if tries is None:
                tries = self._candidates(head)
            for bit, pattern in tries:
                if not done & bit and pattern.match(text, at):
                    done |= bit
        rest = self._always & ~done
        if self._ascii_digits and not text.isascii() and _OTHER_DIGIT.search(text):
            rest |= self._ascii_digits & ~done
        patterns = self._patterns
        while rest:
            bit = rest & -rest
            rest ^= bit
            if patterns[bit.bit_length() - 1].search(text):
                done |= bit
        return done


# A few: the packs, and the overrides of the tenants a process syncs in turn (each index keeps up to
# _HEADS_KEPT tries of its own).
@functools.lru_cache(maxsize=16)
def _shared_index(lists: tuple[tuple[str, tuple[str, ...]], ...]) -> KeywordIndex:
    return KeywordIndex(dict(lists))


def keyword_index(lists: Mapping[str, Iterable[str]]) -> KeywordIndex:
    """The index of these lists, one per process for the same lists (as bounded() compiles a pattern
    once): its tries per head are a function of the lists alone, so every load of the same rules
    (each tenant's run, an evaluation, a reclassification) starts with those already made."""
    return _shared_index(tuple((key, tuple(patterns)) for key, patterns in lists.items()))
