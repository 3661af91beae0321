"""The array form of the classifier gives judge()'s results, conversation for conversation: on
every labelled conversation with every pack, and on thousands of shuffled dialogues."""

from __future__ import annotations

import random

import pytest

from chatwoot_etl import contract
from chatwoot_etl.sync.leads import CONTACT, PACKS, judge, load_rules
from chatwoot_etl.sync.leads.batch import judge_batch
from tests.unit.sync.test_lead_packs import labelled


def _compiled(turns) -> list[dict]:
    return [{"sender": "Contact", "message_type": 0, "private": False, "text": t.text or None} if t.role == CONTACT
            else {"sender": "AgentBot", "message_type": 1, "private": False, "text": t.text} for t in turns]


def _same(conversations, rules) -> None:
    found = judge_batch([_compiled(turns) for turns in conversations], rules, contract.LEAD_LABELS)
    for position, turns in enumerate(conversations):
        expected = judge([t for t in turns if t.role == CONTACT or t.text.strip()], rules, contract.LEAD_LABELS)
        got = (bool(found["is_lead"][position]), bool(found["visit_scheduled"][position]),
               bool(found["crm_converted"][position]), int(found["score"][position]), str(found["label"][position]))
        assert got == (expected.is_lead, expected.visit_scheduled, expected.crm_converted, expected.score,
                       expected.label), [(t.role, t.text) for t in turns]


@pytest.mark.parametrize("pack", PACKS)
def test_equal_on_every_labelled_conversation(pack):
    conversations = [record["turns"] for p in PACKS for record in labelled(p)]
    _same(conversations, load_rules(pack=pack))


def test_equal_on_shuffled_dialogues():
    turns = [turn for p in PACKS for record in labelled(p) for turn in record["turns"]]
    rng = random.Random(20261201)
    conversations = [rng.sample(turns, rng.randint(0, 9)) for _ in range(3000)]
    _same(conversations, load_rules(pack="fitness"))
    _same(conversations, load_rules({"dialogue_window": 1, "confirmation_window": 0}, pack="health"))
