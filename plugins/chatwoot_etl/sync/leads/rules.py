"""Lead rules as data: vertical packs over a generic default, a tenant's override on top, checked
key by key and compiled once; the version names the exact rules a row was classified with.

A pack (packs/<name>.json) extends `generic`: its pattern lists are added to generic's, its
weights and labels replace generic's key by key. A tenant's override (tenants.lead_rules) has
the same keys; a pattern list there replaces the pack's list.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from chatwoot_etl.contract import LEAD_PACKS as PACKS
from chatwoot_etl.sync.leads.matcher import KeywordIndex, bounded, keyword_index

DEFAULT_PACK = PACKS[0]

# Matched against the contact's own messages.
CONTACT_KEYS = ("negations", "buy_intent", "price_intent", "visit_intent", "datetime_expressions", "conversion",
                "decline", "cancellation", "reschedule", "acceptance", "existing_customer", "hedge")
# Matched against the business's messages (agents, bots, templates): context, never intent.
BUSINESS_KEYS = ("offer", "booking_confirmation", "payment_confirmation", "unavailable")
PATTERN_KEYS = CONTACT_KEYS + BUSINESS_KEYS
WEIGHT_KEYS = ("buy_intent", "price_intent", "visit_intent", "visit_scheduled", "conversion", "decline",
               "per_extra_message", "max_engagement")
LABEL_KEYS = ("alta", "media")
WINDOW_KEYS = {"negation_window": (0, 20), "confirmation_window": (0, 20), "dialogue_window": (1, 20)}
NESTED_KEYS = ("weights", "labels")
KNOWN_KEYS = {*PATTERN_KEYS, *WINDOW_KEYS, *NESTED_KEYS, "_comment", "extends"}
_WEIGHT_RANGE = (-1000, 1000)


@dataclass(frozen=True)
class LeadRules:
    """Compiled rules; build with load_rules()."""

    pack: str
    version: str                                  # "<pack>:<12 hex of the merged rules>"
    source: Mapping[str, Any]                     # the merged rules, as data
    patterns: Mapping[str, re.Pattern[str]]       # one bounded union per pattern key
    contact_keys: KeywordIndex                    # the same, all at once: CONTACT_KEYS and NEGATION_WORDS
    business_keys: KeywordIndex                   # BUSINESS_KEYS
    negated_intent: re.Pattern[str]
    windows: Mapping[str, int]
    weights: Mapping[str, int]
    label_alta: int
    label_media: int
    # Per-message signals by text (judge: by (role, text); the batch: one dict per role): the same
    # texts ("oi", menus, "quanto custa?") recur in conversation after conversation.
    signal_cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole_number(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"lead rules: {key!r} must be an integer from {low} to {high}, not {_shown(value)}")
    return value


def validate_override(override: Any) -> dict[str, Any]:
    """A tenant's lead_rules override (or a pack file), checked key by key; ValueError names the
    key and the value: a list where an object belongs, a string where a list of patterns belongs
    ("abc" is not the patterns a, b, c), a number out of range, a pattern that does not compile."""
    if override is None:
        return {}
    if not isinstance(override, Mapping):
        raise ValueError(f"lead rules must be a JSON object of rule keys, not {_shown(override)}")
    for key, value in override.items():
        if key not in KNOWN_KEYS:
            raise ValueError(f"lead rules: unknown key {key!r}")
        if key in PATTERN_KEYS:
            if not (isinstance(value, list) and value and all(isinstance(p, str) and p for p in value)):
                raise ValueError(f"lead rules: {key!r} must be a non-empty list of non-empty strings, "
                                 f"not {_shown(value)}")
            for pattern in value:
                try:
                    re.compile(f"(?:{pattern})")   # as it stands in the key's union (no global flags)
                except re.error as exc:
                    raise ValueError(f"lead rules: invalid pattern in {key!r}: {pattern!r} ({exc})") from None
        if key in WINDOW_KEYS:
            _whole_number(key, value, *WINDOW_KEYS[key])
        if key in NESTED_KEYS:
            if not isinstance(value, Mapping):
                raise ValueError(f"lead rules: {key!r} must be an object, not {_shown(value)}")
            known = WEIGHT_KEYS if key == "weights" else LABEL_KEYS
            for name, number in value.items():
                if name not in known:
                    raise ValueError(f"lead rules: unknown key {key}.{name!r}")
                _whole_number(f"{key}.{name}", number, *(_WEIGHT_RANGE if key == "weights" else (0, 100)))
    return dict(override)


def check_pack(name: Any) -> str:
    if name not in PACKS:
        raise ValueError(f"unknown lead pack {_shown(name)}: one of {', '.join(PACKS)}")
    return str(name)


def _pack_file(name: str) -> dict[str, Any]:
    text = resources.files("chatwoot_etl.sync.leads").joinpath("packs", f"{name}.json").read_text(encoding="utf-8")
    return validate_override(json.loads(text))


def merged_rules(pack: str | None = None, override: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """generic <- the pack (lists added) <- the tenant's override (lists replaced); nested key by key."""
    pack = check_pack(pack or DEFAULT_PACK)
    merged = _pack_file(DEFAULT_PACK)
    layers: list[tuple[dict[str, Any], bool]] = []
    if pack != DEFAULT_PACK:
        layers.append((_pack_file(pack), True))
    layers.append((validate_override(override), False))
    for layer, adds in layers:
        for key, value in layer.items():
            if key in ("_comment", "extends"):
                continue
            if key in NESTED_KEYS:
                merged[key] = {**merged[key], **copy.deepcopy(dict(value))}
            elif adds and key in PATTERN_KEYS:
                merged[key] = merged[key] + [p for p in value if p not in merged[key]]
            else:
                merged[key] = copy.deepcopy(value)
    return merged


def _union(patterns: Iterable[str]) -> str:
    return "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")"


# What a negated intent is replaced with: itself a negation, so "nao tenho interesse em
# visitar" is voided link by link, and a date in the same message stays unconfirmed.
NEGATED = "__neg__"
# Any negation word ("sem" too), bounded: what a negated intent begins with.
NEGATION_WORDS = "negation_words"
# A negation reaches over words but never over sentence punctuation ("Não. Quero comprar.").
_SEP = r"[^\w.,!?;:]+"


def load_rules(override: Mapping[str, Any] | None = None, pack: str | None = None) -> LeadRules:
    """The compiled rules of a pack (default generic) with a tenant's override."""
    merged = merged_rules(pack, override)
    for key in (*WEIGHT_KEYS,):
        if key not in merged["weights"]:
            raise ValueError(f"lead rules: weights missing {key!r}")
    if int(merged["labels"]["media"]) > int(merged["labels"]["alta"]):
        raise ValueError(f"lead rules: labels.media ({merged['labels']['media']}) cannot exceed labels.alta "
                         f"({merged['labels']['alta']})")
    lists = {key: list(merged[key]) for key in PATTERN_KEYS}
    # "sem compromisso" must not void a booking: "sem" only negates the intent right after it.
    lists["negations"] = [NEGATED, *(n for n in merged["negations"] if n != "sem")]
    patterns = {key: bounded(_union(patterns)) for key, patterns in lists.items()}
    unions = {key: _union(merged[key]) for key in PATTERN_KEYS}
    intents = _union(unions[k] for k in ("buy_intent", "price_intent", "visit_intent", "conversion"))
    window = int(merged["negation_window"])
    negated_intent = re.compile(rf"(?<!\w)(?:{NEGATED}|{unions['negations']})(?!\w)(?:{_SEP}\w+){{0,{window}}}?"
                                rf"{_SEP}{intents}(?!\w)")
    canonical = json.dumps({k: v for k, v in merged.items() if k != "_comment"}, sort_keys=True, ensure_ascii=False)
    pack_name = check_pack(pack or DEFAULT_PACK)
    return LeadRules(
        pack=pack_name,
        version=f"{pack_name}:{hashlib.sha256(canonical.encode()).hexdigest()[:12]}",
        source=merged,
        patterns=patterns,
        contact_keys=keyword_index({**{key: lists[key] for key in CONTACT_KEYS},
                                   NEGATION_WORDS: [NEGATED, *merged["negations"]]}),
        business_keys=keyword_index({key: lists[key] for key in BUSINESS_KEYS}),
        negated_intent=negated_intent,
        windows={key: int(merged[key]) for key in WINDOW_KEYS},
        weights={k: int(v) for k, v in merged["weights"].items()},
        label_alta=int(merged["labels"]["alta"]),
        label_media=int(merged["labels"]["media"]),
    )
