"""Rule-based lead classifier over the contact's own messages.

The previous ETL ran regular expressions over the JSON dump of every message: timestamps
matched its time pattern, ASCII-escaped accents hid "não", and bot menus counted as the
customer's words. Here the JSON is decoded first, only the contact's public incoming messages
are read, text is normalised (accents stripped, casefolded) before matching, negated intents are
removed before intents are searched, and dates/times only count next to a visit intent.
The rules themselves are data (lead_rules.json), overridable per tenant.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from chatwoot_etl import contract

_RULES_FILE = "lead_rules.json"
_PATTERN_KEYS = ("negations", "buy_intent", "price_intent", "visit_intent", "datetime_expressions", "conversion", "decline")
_WEIGHT_KEYS = (
    "buy_intent",
    "price_intent",
    "visit_intent",
    "visit_scheduled",
    "conversion",
    "decline",
    "per_extra_message",
    "max_engagement",
)
_KNOWN_KEYS = {*_PATTERN_KEYS, "negation_window", "confirmation_window", "weights", "labels", "_comment"}
_NESTED_KEYS = ("weights", "labels")

# A negation reaches over words but never over sentence punctuation ("Não. Quero comprar.").
_SEP = r"[^\w.,!?;:]+"
_WS = re.compile(r"\s+")
# What a negated intent is replaced with: itself a negation, so "nao tenho interesse em
# visitar" is voided link by link, and a date in the same message stays unconfirmed.
_NEGATED = "__neg__"
_MAX_NEGATION_PASSES = 4
# Unicode combining-mark blocks (what unicodedata.combining() flags for Latin text), removed in C.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Distinct message texts remembered per rules object before the cache starts afresh.
_SIGNAL_CACHE_LIMIT = 200_000
_SIGNALS = ("buy", "price", "visit", "when", "negated", "converted", "declined")


@dataclass(frozen=True)
class LeadRules:
    """Compiled rules; build with load_rules()."""

    source: Mapping[str, Any]
    negated_intent: re.Pattern[str]
    negation: re.Pattern[str]
    buy_intent: re.Pattern[str]
    price_intent: re.Pattern[str]
    visit_intent: re.Pattern[str]
    datetime_expressions: re.Pattern[str]
    conversion: re.Pattern[str]
    decline: re.Pattern[str]
    confirmation_window: int
    weights: Mapping[str, int]
    label_alta: int
    label_media: int
    # Per-message signals by message text (they depend on the text and the rules only): the same
    # texts ("oi", "quanto custa?", menu answers) come back in conversation after conversation.
    signal_cache: dict[str, tuple[bool, ...]] = field(default_factory=dict, compare=False, repr=False)


def _default_rules() -> dict[str, Any]:
    text = resources.files("chatwoot_etl.sync").joinpath(_RULES_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _union(name: str, patterns: Iterable[str]) -> str:
    parts = list(patterns)
    if not parts or not all(isinstance(p, str) and p for p in parts):
        raise ValueError(f"lead rules: {name!r} must be a non-empty list of non-empty strings")
    for p in parts:
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"lead rules: invalid pattern in {name!r}: {p!r} ({exc})") from None
    return "(?:" + "|".join(f"(?:{p})" for p in parts) + ")"


def _bounded(union: str) -> re.Pattern[str]:
    # The lookbehind sits outside the alternation so mid-word positions fail fast.
    return re.compile(rf"(?<!\w){union}(?!\w)")


_WINDOW_KEYS = {"negation_window": (0, 20), "confirmation_window": (0, 20)}
_WEIGHT_RANGE = (-1000, 1000)
_LABEL_KEYS = ("alta", "media")


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole_number(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"lead rules: {key!r} must be an integer from {low} to {high}, not {_shown(value)}")
    return value


def validate_override(override: Any) -> dict[str, Any]:
    """A tenant's lead_rules override, checked key by key; ValueError names the key and the value.

    Checked once, before anything is compiled: a list where an object belongs, a string where a
    list of patterns belongs ("abc" is not the patterns a, b, c), a number out of range.
    """
    if override is None:
        return {}
    if not isinstance(override, Mapping):
        raise ValueError(f"lead rules must be a JSON object of rule keys, not {_shown(override)}")
    for key, value in override.items():
        if key not in _KNOWN_KEYS:
            raise ValueError(f"lead rules: unknown key {key!r}")
        if key in _PATTERN_KEYS and not (isinstance(value, list) and value
                                         and all(isinstance(p, str) and p for p in value)):
            raise ValueError(f"lead rules: {key!r} must be a non-empty list of non-empty strings, not {_shown(value)}")
        if key in _WINDOW_KEYS:
            _whole_number(key, value, *_WINDOW_KEYS[key])
        if key in _NESTED_KEYS:
            if not isinstance(value, Mapping):
                raise ValueError(f"lead rules: {key!r} must be an object, not {_shown(value)}")
            known = _WEIGHT_KEYS if key == "weights" else _LABEL_KEYS
            for name, number in value.items():
                if name not in known:
                    raise ValueError(f"lead rules: unknown key {key}.{name!r}")
                low, high = _WEIGHT_RANGE if key == "weights" else (0, 100)
                _whole_number(f"{key}.{name}", number, low, high)
    return dict(override)


def load_rules(override: Mapping[str, Any] | None = None) -> LeadRules:
    """Default rules merged with a tenant's override (keys present in the override win)."""
    merged = _default_rules()
    for key, value in validate_override(override).items():
        if key in _NESTED_KEYS:
            merged[key] = {**merged[key], **copy.deepcopy(dict(value))}
        else:
            merged[key] = copy.deepcopy(value)
    if int(merged["labels"]["media"]) > int(merged["labels"]["alta"]):
        raise ValueError(f"lead rules: labels.media ({merged['labels']['media']}) cannot exceed labels.alta "
                         f"({merged['labels']['alta']})")

    unions = {key: _union(key, merged[key]) for key in _PATTERN_KEYS}
    window = int(merged["negation_window"])
    intents = "(?:" + "|".join(unions[k] for k in ("buy_intent", "price_intent", "visit_intent", "conversion")) + ")"
    negations = f"(?:{_NEGATED}|{unions['negations']})"
    negated_intent = re.compile(rf"(?<!\w){negations}(?!\w)(?:{_SEP}\w+){{0,{window}}}?{_SEP}{intents}(?!\w)")
    weights = {k: int(v) for k, v in merged["weights"].items()}
    missing = [k for k in _WEIGHT_KEYS if k not in weights]
    if missing:
        raise ValueError(f"lead rules: weights missing {missing}")
    labels = merged["labels"]
    return LeadRules(
        source=merged,
        negated_intent=negated_intent,
        # "sem compromisso" must not void a booking: "sem" only negates the intent right after it.
        negation=_bounded(_union("negations", [_NEGATED, *(n for n in merged["negations"] if n != "sem")])),
        buy_intent=_bounded(unions["buy_intent"]),
        price_intent=_bounded(unions["price_intent"]),
        visit_intent=_bounded(unions["visit_intent"]),
        datetime_expressions=_bounded(unions["datetime_expressions"]),
        conversion=_bounded(unions["conversion"]),
        decline=_bounded(unions["decline"]),
        confirmation_window=int(merged["confirmation_window"]),
        weights=weights,
        label_alta=int(labels["alta"]),
        label_media=int(labels["media"]),
    )


def normalise_text(text: str) -> str:
    """Accent- and case-insensitive form: NFKD, combining marks dropped, casefolded, spaces squeezed."""
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return _WS.sub(" ", text.casefold()).strip()


def _is_contact_message(item: Any) -> bool:
    if not isinstance(item, dict) or item.get("sender") != "Contact":
        return False
    kind = item.get("message_type")
    # bool is an int subclass: False must not pass for 0. Text "0" is accepted (the old
    # ETL's int-vs-string comparison silently failed).
    if isinstance(kind, bool) or not (kind == 0 or kind == "0"):
        return False
    if item.get("private") not in (False, None, "false", "f"):
        return False
    text = item.get("text")
    return isinstance(text, str) and bool(text.strip())


def contact_texts(parsed: Any) -> list[str]:
    """Texts of the contact's own public incoming messages in one decoded message_compiled."""
    if not isinstance(parsed, list):
        return []
    # The sender test first: most messages are not the contact's (same result, fewer calls).
    return [item["text"] for item in parsed
            if isinstance(item, dict) and item.get("sender") == "Contact" and _is_contact_message(item)]


def contact_messages(message_compiled_json: pd.Series) -> pd.Series:
    """Per conversation, the list of the contact's own public message texts (JSON decoded)."""
    out: list[list[str]] = []
    for value in message_compiled_json.tolist():
        if not isinstance(value, str) or not value.strip():
            out.append([])
            continue
        out.append(contact_texts(json.loads(value)))
    return pd.Series(out, index=message_compiled_json.index, dtype=object)


def _empty_result(index: pd.Index) -> pd.DataFrame:
    n = len(index)
    return pd.DataFrame(
        {
            "is_lead": np.zeros(n, dtype=bool),
            "visit_scheduled": np.zeros(n, dtype=bool),
            "crm_converted": np.zeros(n, dtype=bool),
            "ai_probability_label": pd.Series(["N/A"] * n, index=index, dtype="str"),
            "ai_probability_score": pd.array([0] * n, dtype="Int64"),
        },
        index=index,
    )[list(contract.LEAD_COLUMNS)]


def _message_signals(texts: list[str], rules: LeadRules) -> np.ndarray:
    """Per message, the _SIGNALS flags (a bool array of shape (len(texts), len(_SIGNALS))).

    Each message's flags depend only on its own text: the negation passes stop at a fixed point,
    so a text gives the same flags whatever batch it comes in, and known texts are looked up.
    """
    cache = rules.signal_cache
    unknown = list(dict.fromkeys(t for t in texts if t not in cache))
    if unknown:
        if len(cache) + len(unknown) > _SIGNAL_CACHE_LIMIT:
            cache.clear()
        norm = pd.Series([normalise_text(t) for t in unknown], dtype=object)
        neutral = norm
        for _ in range(_MAX_NEGATION_PASSES):
            voided = neutral.str.replace(rules.negated_intent, _NEGATED, regex=True)
            if voided.equals(neutral):
                break
            neutral = voided
        columns = [
            neutral.str.contains(rules.buy_intent).to_numpy(bool),
            neutral.str.contains(rules.price_intent).to_numpy(bool),
            neutral.str.contains(rules.visit_intent).to_numpy(bool),
            neutral.str.contains(rules.datetime_expressions).to_numpy(bool),
            neutral.str.contains(rules.negation).to_numpy(bool),
            neutral.str.contains(rules.conversion).to_numpy(bool),
            norm.str.contains(rules.decline).to_numpy(bool),
        ]
        cache.update(zip(unknown, zip(*(c.tolist() for c in columns), strict=True), strict=True))
    return np.array([cache[t] for t in texts], dtype=bool).reshape(len(texts), len(_SIGNALS))


def classify(messages: pd.Series, rules: LeadRules) -> pd.DataFrame:
    """LEAD_COLUMNS per conversation, from a Series of lists of the contact's message texts."""
    index = messages.index
    lists = [m if isinstance(m, (list, tuple)) else [] for m in messages.tolist()]
    lengths = np.fromiter((len(m) for m in lists), dtype=np.int64, count=len(lists))
    total = int(lengths.sum())
    if total == 0:
        return _empty_result(index)

    # One row per message: owner conversation (positional) and position inside it.
    conv = np.repeat(np.arange(len(lists)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    pos = np.arange(total) - starts
    texts = [t if isinstance(t, str) else "" for m in lists for t in m]
    signals = _message_signals(texts, rules)
    buy, price, visit, when, negated, converted, declined = (signals[:, i] for i in range(len(_SIGNALS)))

    # A date/time counts only in a message without a remaining negation, and only when the
    # same message, or one of the few contact messages just before it, asks for a visit.
    firm_when = when & ~negated
    visit_pos = pd.Series(np.where(visit, pos, np.nan))
    last_visit = visit_pos.groupby(conv).ffill().to_numpy()
    gap = pos - last_visit
    scheduled = firm_when & (gap >= 0) & (gap <= rules.confirmation_window)

    per_msg = pd.DataFrame(
        {
            "buy": buy,
            "price": price,
            "visit": visit,
            "scheduled": scheduled,
            "converted": converted,
            "declined": declined,
        }
    )
    agg = per_msg.groupby(conv).any().reindex(np.arange(len(lists)), fill_value=False)

    score = _score(agg, lengths, rules)
    high, medium, low, unjudged = contract.LEAD_LABELS
    label = np.where(
        lengths == 0, unjudged,
        np.where(score >= rules.label_alta, high, np.where(score >= rules.label_media, medium, low)),
    )

    is_lead = (agg["buy"] | agg["price"] | agg["visit"] | agg["converted"]).to_numpy(bool)
    result = pd.DataFrame(
        {
            "is_lead": is_lead,
            "visit_scheduled": agg["scheduled"].to_numpy(bool),
            "crm_converted": agg["converted"].to_numpy(bool),
            "ai_probability_label": pd.array(label, dtype="str"),
            "ai_probability_score": pd.array(score, dtype="Int64"),
        },
        index=index,
    )
    return result[list(contract.LEAD_COLUMNS)]


def _score(agg: pd.DataFrame, lengths: np.ndarray, rules: LeadRules) -> np.ndarray:
    """0-100 per conversation: the weights of the signals it shows, plus engagement (messages sent)."""
    w = rules.weights
    engagement = np.minimum(np.maximum(lengths - 1, 0) * w["per_extra_message"], w["max_engagement"])
    score = (
        agg["buy"].to_numpy() * w["buy_intent"]
        + agg["price"].to_numpy() * w["price_intent"]
        + agg["visit"].to_numpy() * w["visit_intent"]
        + agg["scheduled"].to_numpy() * w["visit_scheduled"]
        + agg["converted"].to_numpy() * w["conversion"]
        + agg["declined"].to_numpy() * w["decline"]
        + np.where(lengths > 0, engagement, 0)
    )
    return np.clip(score, 0, 100).astype(np.int64)
