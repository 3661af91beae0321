"""Lead, visit and conversion signals: rules as data (packs), a dialogue-aware classifier, and the
explanation of each flag. The transform calls classify(); the CLI evaluates and explains."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatwoot_etl import contract
from chatwoot_etl.sync.leads.classifier import (
    BUSINESS,
    CONTACT,
    Turn,
    Verdict,
    contact_texts,
    decode_messages,
    judge,
    normalise_text,
    turns_of,
)
from chatwoot_etl.sync.leads.rules import DEFAULT_PACK, PACKS, LeadRules, check_pack, load_rules, validate_override

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BUSINESS", "CONTACT", "DEFAULT_PACK", "PACKS", "LeadRules", "Turn", "Verdict", "check_pack", "classify",
    "contact_texts", "decode_messages", "explain", "judge", "load_rules", "normalise_text", "turns_of", "validate_override",
]


def classify(messages: Sequence[Any], rules: LeadRules, index: pd.Index | None = None) -> pd.DataFrame:
    """LEAD_COLUMNS per conversation, from each one's decoded message_compiled (a list of message
    objects, or a JSON text of one)."""
    import pandas as pd  # the rules and the judge need no pandas: administration commands stay light

    from chatwoot_etl.sync.leads.batch import judge_batch

    parsed = [decode_messages(m) if isinstance(m, str) and m.strip() else m for m in messages]
    found = judge_batch(parsed, rules, contract.LEAD_LABELS)
    return pd.DataFrame(
        {
            "is_lead": found["is_lead"],
            "visit_scheduled": found["visit_scheduled"],
            "crm_converted": found["crm_converted"],
            "ai_probability_label": pd.array(found["label"], dtype="str"),
            "ai_probability_score": pd.array(found["score"], dtype="Int64"),
        },
        index=index if index is not None else pd.RangeIndex(len(parsed)),
    )[list(contract.LEAD_COLUMNS)]


def explain(turns: Sequence[Turn], rules: LeadRules) -> list[dict[str, Any]]:
    """Per flag: its value and the message (position, sender, text) and rule that decided it."""
    verdict = judge(turns, rules, contract.LEAD_LABELS)
    rows = []
    for flag in ("is_lead", "visit_scheduled", "crm_converted"):
        value = getattr(verdict, flag)
        index, why = verdict.evidence.get(flag, (None, None))
        if value and index is None:  # implied by the funnel
            why = "implied by crm_converted" if flag != "is_lead" or verdict.crm_converted else "implied by visit_scheduled"
            index = verdict.evidence.get("crm_converted" if verdict.crm_converted else "visit_scheduled", (None, None))[0]
        if not value:
            why, index = None, None
        turn = turns[index] if index is not None else None
        rows.append({"flag": flag, "value": value, "message": None if index is None else index + 1,
                     "sender": turn.role if turn else None, "text": turn.text if turn else None, "rule": why})
    rows.append({"flag": "ai_probability_score", "value": verdict.score, "message": None, "sender": None,
                 "text": None, "rule": f"label {verdict.label} ({rules.version})"})
    return rows
