"""The rule packs: each loads, extends generic, takes a tenant's override; and on the labelled
conversations of tests/fixtures/leads (written for this project, WhatsApp Portuguese, 65 per pack)
each pack reaches 0.9 precision and recall for is_lead and visit_scheduled. The held-out sets
(tests/fixtures/leads/holdout, 20 per pack) are reported by `chatwoot-etl leads evaluate`."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from chatwoot_etl import contract
from chatwoot_etl.sync.leads import PACKS, check_pack, judge, load_rules
from chatwoot_etl.sync.leads.evaluation import metrics, read_labelled

LABELLED = Path(__file__).resolve().parents[2] / "fixtures" / "leads"


@functools.cache
def labelled(pack: str) -> list[dict]:
    return read_labelled(LABELLED / f"{pack}.json")


def test_every_pack_has_at_least_50_labelled_conversations_and_300_in_all():
    sizes = {pack: len(labelled(pack)) for pack in PACKS}
    assert all(size >= 50 for size in sizes.values()) and sum(sizes.values()) >= 300, sizes


@pytest.mark.parametrize("pack", PACKS)
def test_precision_and_recall_per_pack(pack):
    rules = load_rules(pack=pack)
    records = labelled(pack)
    verdicts = [judge(r["turns"], rules, contract.LEAD_LABELS) for r in records]
    table = metrics(records, verdicts)
    for flag in ("is_lead", "visit_scheduled"):
        row = table[flag]
        missed = [r["id"] for r, v in zip(records, verdicts, strict=True) if r["expected"][flag] != getattr(v, flag)]
        assert row["precision"] >= 0.9 and row["recall"] >= 0.9, (flag, row, missed)


def test_packs_extend_generic_and_an_override_replaces_a_list():
    generic, fitness = load_rules(), load_rules(pack="fitness")
    assert set(generic.source["visit_intent"]) < set(fitness.source["visit_intent"])
    assert fitness.version.startswith("fitness:") and fitness.version != generic.version
    tuned = load_rules({"visit_intent": ["aula experimental"]}, pack="fitness")
    assert tuned.source["visit_intent"] == ["aula experimental"]
    assert tuned.source["buy_intent"] == fitness.source["buy_intent"]
    assert load_rules(pack="fitness").version == fitness.version    # the version names the rules, nothing else


def test_an_unknown_pack_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown lead pack \"gym\": one of generic, fitness, real_estate"):
        check_pack("gym")


def test_pack_files_are_checked_like_overrides():
    for pack in PACKS:
        text = (Path(load_rules.__code__.co_filename).parent / "packs" / f"{pack}.json").read_text(encoding="utf-8")
        assert json.loads(text)["_comment"]
