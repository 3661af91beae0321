"""Labelled conversations in, precision / recall / confusion per flag out: how a tenant's rules
are tuned. Pure: reading a file and counting.

Two file shapes. JSON: a list of {"id", "messages": [{"sender": "contact" | "agent" | "bot",
"text"}], "expected": {"is_lead", "visit_scheduled", "crm_converted"}} ("text" may be null for an
attachment). CSV: one row per message, columns conversation_id, sender, text and the three flags
(on the conversation's first row at least; true / false, 1 / 0, sim / não).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatwoot_etl.errors import LabelledFileError
from chatwoot_etl.sync.leads.classifier import BUSINESS, CONTACT, Turn, Verdict

FLAGS = ("is_lead", "visit_scheduled", "crm_converted")
_SENDERS = {"contact": CONTACT, "agent": BUSINESS, "bot": BUSINESS, "business": BUSINESS}
_TRUE, _FALSE = {"true", "1", "yes", "sim", "t", "y", "s"}, {"false", "0", "no", "nao", "não", "f", "n"}


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise LabelledFileError(f"{where}: expected true or false, not {value!r}")


def _turn(message: Any, where: str) -> Turn:
    if not isinstance(message, dict) or str(message.get("sender", "")).lower() not in _SENDERS:
        raise LabelledFileError(f"{where}: each message needs a sender (contact, agent or bot), not {message!r}")
    text = message.get("text")
    if text is not None and not isinstance(text, str):
        raise LabelledFileError(f"{where}: text must be a string or null, not {text!r}")
    return Turn(_SENDERS[str(message["sender"]).lower()], text or "")


def _from_json(data: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise LabelledFileError(f"{name}: expected a JSON list of conversations")
    records = []
    for position, item in enumerate(data, start=1):
        where = f"{name}: conversation {item.get('id', position) if isinstance(item, dict) else position}"
        if not isinstance(item, dict) or not isinstance(item.get("messages"), list):
            raise LabelledFileError(f"{where}: needs a list of messages")
        expected = item.get("expected")
        if not isinstance(expected, dict) or any(flag not in expected for flag in FLAGS):
            raise LabelledFileError(f"{where}: expected needs {', '.join(FLAGS)}")
        records.append({
            "id": str(item.get("id", position)), "kind": item.get("kind"),
            "turns": [_turn(m, f"{where}, message {i}") for i, m in enumerate(item["messages"], start=1)],
            "expected": {flag: _flag(expected[flag], f"{where}, {flag}") for flag in FLAGS},
        })
    return records


def _from_csv(text: str, name: str) -> list[dict[str, Any]]:
    rows = list(csv.DictReader(text.splitlines()))
    needed = {"conversation_id", "sender", "text"}
    if not rows or not needed <= set(rows[0]):
        raise LabelledFileError(f"{name}: a CSV needs the columns conversation_id, sender, text and {', '.join(FLAGS)}")
    by_id: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(rows, start=2):
        where = f"{name}: line {line} (conversation {row['conversation_id']})"
        record = by_id.setdefault(row["conversation_id"], {"id": row["conversation_id"], "kind": None,
                                                           "turns": [], "expected": {}})
        record["turns"].append(_turn({"sender": row["sender"], "text": row["text"] or None}, where))
        for flag in FLAGS:
            if (row.get(flag) or "").strip() and flag not in record["expected"]:
                record["expected"][flag] = _flag(row[flag], f"{where}, {flag}")
    for record in by_id.values():
        missing = [flag for flag in FLAGS if flag not in record["expected"]]
        if missing:
            raise LabelledFileError(f"{name}: conversation {record['id']} has no value for {', '.join(missing)}")
    return list(by_id.values())


def read_labelled(path: Path) -> list[dict[str, Any]]:
    """The conversations of a labelled .json or .csv file: id, kind, turns, expected flags."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        return _from_csv(text, path.name)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelledFileError(f"{path.name}: not JSON ({exc})") from None
    return _from_json(data, path.name)


def metrics(records: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> dict[str, dict[str, Any]]:
    """Per flag: tp / fp / fn / tn, precision and recall (1.0 where nothing was to be found)."""
    table: dict[str, dict[str, Any]] = {}
    for flag in FLAGS:
        counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        for record, verdict in zip(records, verdicts, strict=True):
            expected, found = record["expected"][flag], bool(getattr(verdict, flag))
            counts[("t" if expected == found else "f") + ("p" if found else "n")] += 1
        predicted, actual = counts["tp"] + counts["fp"], counts["tp"] + counts["fn"]
        table[flag] = {**counts, "precision": counts["tp"] / predicted if predicted else 1.0,
                       "recall": counts["tp"] / actual if actual else 1.0}
    return table


def misclassified(records: Sequence[dict[str, Any]], verdicts: Sequence[Verdict]) -> list[dict[str, Any]]:
    """The conversations with a flag wrong: which, expected and found, and the deciding message."""
    wrong = []
    for record, verdict in zip(records, verdicts, strict=True):
        for flag in FLAGS:
            found = bool(getattr(verdict, flag))
            if found != record["expected"][flag]:
                index, why = verdict.evidence.get(flag, (None, None))
                turn = record["turns"][index] if index is not None else None
                wrong.append({"conversation": record["id"], "kind": record.get("kind"), "flag": flag,
                              "expected": record["expected"][flag], "found": found, "rule": why,
                              "message": (turn.text[:80] if turn else None)})
    return wrong
