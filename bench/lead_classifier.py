"""How many conversations per second the lead classifier judges, against the classifier before the
dialogue rules (the baseline, read from git at BASELINE_REVISION), in the same run.

A benchmark, not a test. The conversations are the labelled sets of tests/fixtures/leads (325,
WhatsApp Portuguese) repeated --copies times as message_compiled lists, twice: as they are (texts
recur, as greetings, menus and templates do in a real inbox; the per-text cache serves them) and
with every text made unique (each one goes through the regular expressions: the worst case); and
both again from message_compiled JSON text, as a sync classifies them (the baseline decoding with
its own contact_messages, as its transform did).
Each contender gets fresh rules (an empty cache) per run, --runs runs interleaved (each pair timed
back to back, in turn first). The ratio is that of the fastest runs: this shared machine's noise
only ever slows a run down (single runs of the same code vary by a third), so the fastest run of
each is the closest to its cost, as timeit's documentation advises; the median of the pairs' ratios
is printed beside it. Writes bench/results/lead_classifier.json.

    .venv/bin/python bench/lead_classifier.py [--copies 20] [--runs 15]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

import pandas as pd  # noqa: E402

from chatwoot_etl.sync import leads  # noqa: E402

BASELINE_REVISION = "821a099"  # the last commit of the contact-only classifier (sync/leads.py)
PACKS = ("fitness", "real_estate", "health", "education", "generic")


def conversations(copies: int, unique: bool) -> list[list[dict[str, Any]]]:
    records = [c for p in PACKS for c in json.loads((ROOT / "tests/fixtures/leads" / f"{p}.json").read_text())]
    out = []
    for copy in range(copies):
        for record in records:
            out.append([{"sender": "Contact" if m["sender"] == "contact" else "User",
                         "message_type": 0 if m["sender"] == "contact" else 1, "private": False,
                         "text": f"{m['text']} {copy}" if unique and m.get("text") else m.get("text")}
                        for m in record["messages"]])
    return out


def load_baseline(workdir: Path) -> Any | None:
    """The classifier of BASELINE_REVISION as a module of its own (None without git history)."""
    try:
        code = subprocess.run(["git", "show", f"{BASELINE_REVISION}:plugins/chatwoot_etl/sync/leads.py"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
        rules = subprocess.run(["git", "show", f"{BASELINE_REVISION}:plugins/chatwoot_etl/sync/lead_rules.json"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    (workdir / "lead_rules.json").write_text(rules, encoding="utf-8")
    code = code.replace('resources.files("chatwoot_etl.sync").joinpath(_RULES_FILE).read_text(encoding="utf-8")',
                        f"open({str(workdir / 'lead_rules.json')!r}, encoding='utf-8').read()")
    path = workdir / "baseline_leads.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("baseline_leads", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def time_current(data: list, pack: str) -> float:
    rules = leads.load_rules(pack=pack)
    started = time.perf_counter()
    leads.classify(data, rules)
    return time.perf_counter() - started


def time_baseline(module: Any, data: list) -> float:
    rules = module.load_rules()
    started = time.perf_counter()
    if data and isinstance(data[0], str):
        module.classify(module.contact_messages(pd.Series(data, dtype=object)), rules)
    else:
        module.classify(pd.Series([module.contact_texts(m) for m in data], dtype=object), rules)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "lead_classifier.json")
    args = parser.parse_args()
    results: dict[str, Any] = {"baseline_revision": BASELINE_REVISION, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        baseline = load_baseline(Path(tmp))
        for case, unique, as_json in (("recurring texts", False, False), ("unique texts", True, False),
                                      ("recurring, JSON", False, True), ("unique, JSON", True, True)):
            data: list[Any] = conversations(args.copies, unique)
            if as_json:
                data = [json.dumps(m, ensure_ascii=False) for m in data]
            current, before = [], []
            for run in range(args.runs):  # interleaved, in turn first: the machine's noise falls on both
                if baseline is not None and run % 2:
                    before.append(time_baseline(baseline, data))
                current.append(time_current(data, "fitness"))
                if baseline is not None and not run % 2:
                    before.append(time_baseline(baseline, data))
            row: dict[str, Any] = {"conversations": len(data), "current_per_s": round(len(data) / min(current))}
            if before:
                row["baseline_per_s"] = round(len(data) / min(before))
                row["ratio_current_to_baseline"] = round(min(before) / min(current), 2)
                row["median_pair_ratio"] = round(statistics.median(b / c for b, c in zip(before, current, strict=True)), 2)
            results["cases"][case] = row
    print(f"lead classifier, conversations per second (fastest of {args.runs} interleaved runs each; median of the "
          f"pairs' ratios in brackets; baseline = {BASELINE_REVISION}"
          f"{'' if baseline else ', not available without git history'})")
    for case, row in results["cases"].items():
        print(f"  {case:16} {row['conversations']:>7} conversations: current {row['current_per_s']:>9,}/s"
              + (f"  baseline {row['baseline_per_s']:>9,}/s  ratio {row['ratio_current_to_baseline']:.2f}"
                 f" ({row['median_pair_ratio']:.2f})"
                 if "baseline_per_s" in row else ""))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
