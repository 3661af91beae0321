"""The lead-rules commands of chatwoot-etl: how a data engineer tunes a tenant's rules.

    chatwoot-etl leads evaluate --file labelled.json|.csv [--pack P | --tenant ID] [--json]
    chatwoot-etl leads explain --tenant ID --conversation ID [--json]
    chatwoot-etl leads reclassify --tenant ID [--chunk-size N] [--dry-run] [--json]

evaluate prints precision / recall / confusion per flag and the misclassified conversations;
explain shows which message and which rule set each flag of a stored conversation; reclassify
recomputes a tenant's stored lead columns with its current rules (under its lock, no source read).
Exit 0, 1 with a one-line error, 2 when a sync holds the tenant.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chatwoot_etl.cli import output
from chatwoot_etl.cli.admin import _analytics, _error_boundary
from chatwoot_etl.cli.output import EXIT_OK, EXIT_REFUSED
from chatwoot_etl.errors import AdminError


def _rules(args: argparse.Namespace):
    from chatwoot_etl.sync import leads, runs

    if getattr(args, "tenant", None) is None:
        return leads.load_rules(pack=args.pack)
    with _analytics("leads") as analytics:
        return _tenant_rules(runs.load_tenant(analytics, args.tenant))


def _tenant_rules(tenant):
    from chatwoot_etl.errors import ConfigurationError

    try:
        return tenant.rules()
    except ConfigurationError as exc:  # one line, as every administration error
        raise AdminError(str(exc)) from None


@_error_boundary
def evaluate(args: argparse.Namespace) -> int:
    from chatwoot_etl import contract
    from chatwoot_etl.errors import LabelledFileError
    from chatwoot_etl.sync import leads
    from chatwoot_etl.sync.leads.evaluation import metrics, misclassified, read_labelled

    try:
        records = read_labelled(Path(args.file))
    except LabelledFileError as exc:
        raise AdminError(str(exc)) from None
    rules = _rules(args)
    verdicts = [leads.judge(record["turns"], rules, contract.LEAD_LABELS) for record in records]
    table = metrics(records, verdicts)
    wrong = misclassified(records, verdicts)
    if args.json:
        output.print_json({"rules": rules.version, "conversations": len(records), "metrics": table,
                           "misclassified": wrong})
        return EXIT_OK
    output.line(f"{len(records)} conversations of {args.file}, rules {rules.version}")
    output.table([{"flag": flag, **{k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in row.items()}}
                  for flag, row in table.items()])
    if wrong:
        output.line(f"\n{len(wrong)} misclassified flag(s):")
        output.table(wrong)
    return EXIT_OK


@_error_boundary
def explain(args: argparse.Namespace) -> int:
    from chatwoot_etl.paths import sql_text
    from chatwoot_etl.sync import leads, runs

    with _analytics("leads-explain") as analytics:
        tenant = runs.load_tenant(analytics, args.tenant)
        row = analytics.execute(sql_text("etl/lead_explain_row.sql"),
                                {"tenant_id": args.tenant, "conversation_id": args.conversation}).fetchone()
    if row is None:
        raise AdminError(f"tenant {args.tenant} has no stored conversation {args.conversation}")
    rules = _tenant_rules(tenant)
    turns = leads.turns_of(row[0])
    rows = leads.explain(turns, rules)
    stored = dict(zip(("is_lead", "visit_scheduled", "crm_converted"), row[2:], strict=True))
    for item in rows:
        if item["flag"] in stored:
            item["stored"] = stored[item["flag"]]
    if args.json:
        output.print_json({"tenant": args.tenant, "conversation": args.conversation, "rules": rules.version,
                           "stored_rules": row[1], "flags": rows,
                           "messages": [{"sender": t.role, "text": t.text} for t in turns]})
        return EXIT_OK
    output.line(f"conversation {args.conversation} of tenant {args.tenant}: rules {rules.version} "
                f"(stored row classified by {row[1] or 'an earlier version'})")
    output.table(rows, ["flag", "value", "stored", "message", "sender", "rule", "text"])
    output.line("")
    output.table([{"message": i, "sender": t.role, "text": t.text[:100]} for i, t in enumerate(turns, start=1)])
    return EXIT_OK


@_error_boundary
def reclassify(args: argparse.Namespace) -> int:
    from chatwoot_etl.errors import LockRefused
    from chatwoot_etl.sync.reclassify import reclassify_tenant

    try:
        result = reclassify_tenant(args.tenant, chunk_size=args.chunk_size, dry_run=args.dry_run)
    except LockRefused as exc:
        output.problem(f"refused: {exc}")
        return EXIT_REFUSED
    summary = result.summary()
    if args.json:
        output.print_json(summary)
    else:
        output.table([{k: v for k, v in summary.items() if k != "previous_versions"}])
        output.line("previous rules: " + ", ".join(f"{v} ({n})" for v, n in sorted(summary["previous_versions"].items())))
    return EXIT_OK
