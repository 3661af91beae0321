"""The keyword index finds exactly the keys whose bounded union has a match: on every labelled text
with every pack, on texts cut and spliced at random, and on patterns whose beginnings cannot be
told (classes, flags, one-character matches, non-ASCII digits)."""

from __future__ import annotations

import random
import re

import pytest

from chatwoot_etl.sync.leads import PACKS, load_rules, normalise_text
from chatwoot_etl.sync.leads.matcher import KeywordIndex, bounded, prefixes
from chatwoot_etl.sync.leads.rules import CONTACT_KEYS, NEGATED, NEGATION_WORDS
from tests.unit.sync.test_lead_packs import labelled


def _expected(lists: dict[str, list[str]], text: str) -> set[str]:
    return {key for key, patterns in lists.items() if bounded("|".join(f"(?:{p})" for p in patterns)).search(text)}


def _found(index: KeywordIndex, text: str) -> set[str]:
    mask = index.matching(text)
    return {key for key, bit in index.bits.items() if mask & bit}


def _texts() -> list[str]:
    return [normalise_text(turn.text) for p in PACKS for record in labelled(p) for turn in record["turns"]
            if turn.text.strip()]


@pytest.mark.parametrize("pack", PACKS)
def test_every_labelled_text_with_every_pack(pack):
    rules = load_rules(pack=pack)
    lists = {key: list(rules.source[key]) for key in (*CONTACT_KEYS, "offer", "booking_confirmation")}
    index = KeywordIndex(lists)
    texts = _texts()
    rng = random.Random(pack)
    spliced = ["".join(rng.choice(texts)[rng.randrange(40):][:rng.randrange(1, 40)] for _ in range(3))
               for _ in range(2000)]
    for text in texts + spliced:
        assert _found(index, text) == _expected(lists, text), text


def test_the_rules_use_it_for_both_sides_of_the_dialogue():
    rules = load_rules(pack="fitness")
    negated = normalise_text("Nao quero me matricular agora, mas tem aula experimental sabado 10h?")
    plain = normalise_text("Quero me matricular, tem aula experimental sabado 10h?")
    for text in (negated, plain):
        assert _found(rules.contact_keys, text) - {NEGATION_WORDS} == {
            key for key in CONTACT_KEYS if rules.patterns[key].search(text)}
    assert NEGATION_WORDS in _found(rules.contact_keys, negated)
    assert NEGATION_WORDS not in _found(rules.contact_keys, plain)
    assert set(rules.business_keys.bits) == {"offer", "booking_confirmation", "payment_confirmation", "unavailable"}


def test_a_pattern_told_by_two_characters():
    assert prefixes("comprar", 2) == {"co"}


@pytest.mark.parametrize(("pattern", "told"), [
    ("comprar", {"compr"}),
    ("(?:estou |to )?interessad[oa]s?", {"estou", "to in", "inter"}),
    ("vc", {"vc"}),
    ("a+b", {"aa", "ab"}),       # "ab" is two characters long: told by two
    ("(?i:ab)", None),            # a flag: searched whole
    ("(?:a?)*b", None),           # a repeat that may match nothing: searched whole
    ("[^x]y", None),              # a negated class
    ("\\w+", None),
])
def test_what_a_pattern_is_told_by(pattern, told):
    from chatwoot_etl.sync.leads.matcher import _beginnings

    found, _digits = _beginnings(pattern)
    assert found == told


@pytest.mark.parametrize("text", [
    "ok", "s", "👍", "sim 👍", "ok👍", "👍👍", "👍ok", "s👍 s",
    "tem 19h?", "as ١٩h", "19:30", "x_19h", "meio-dia", "", "   ", "a" * 300,
    "quero_comprar", "2", "opcao 2", "__neg__ comprar", "amanha as 10 da manha",
    "(sim)", "ok,sim", "tab\tsim", "[19h]", "~s~", "sim\n19h", "e\u0301 19h", "19h\x7f",
])
def test_short_odd_and_non_ascii_texts(text):
    lists = {
        "accept": ["s", "sim", "ok", "👍", "pode ser"],
        "when": ["\\d{1,2}\\s?h", "\\d{1,2}:\\d{2}", "meio[- ]dia", "\\d{1,2} da (?:manha|tarde)"],
        "choice": ["\\d", "opcao \\d"],
        "neg": [NEGATED, "nao"],
        "flagged": ["(?i:QUERO)", "(?s:a.b)"],
        "words": ["quero comprar", "a{3,}"],
    }
    assert _found(KeywordIndex(lists), text) == _expected(lists, text)


def test_an_emoji_is_told_by_itself_and_not_searched_whole():
    index = KeywordIndex({"accept": ["sim", "👍"]})
    assert index._always == 0
    assert _found(index, "👍") == {"accept"} and _found(index, "ok👍") == set()


def test_a_non_ascii_digit_is_found_where_ascii_ones_would_be():
    index = KeywordIndex({"when": ["\\d{1,2}h"]})
    assert _found(index, "as ١٩h") == _expected({"when": ["\\d{1,2}h"]}, "as ١٩h") == {"when"}
    assert re.search(r"\d", "١")
