"""The pure parts of `migrate`: what blocks an adoption, how a change is reported."""

from __future__ import annotations

from chatwoot_etl.admin.migrations import Change, Column, Index, MigrationReport, Table, diff, incompatibilities


def _table(name: str, *columns: Column) -> Table:
    return Table(name, {c.name: c for c in columns})


EXPECTED = {"t": _table("t", Column("a", "integer", False, None), Column("b", "character varying(50)", False, None))}


def test_compatible_tables_and_missing_columns_do_not_block():
    assert incompatibilities(EXPECTED, {"t": _table("t", Column("a", "bigint", False, None))}) == []
    assert incompatibilities(EXPECTED, {}) == []  # a missing table is created


def test_each_blocking_difference_is_named_with_its_fix():
    found = {"t": _table("t", Column("a", "text", False, None), Column("b", "character varying(50)", True, None),
                         Column("c", "integer", True, None), Column("d", "integer", True, "0"))}
    problems = incompatibilities(EXPECTED, found)
    assert len(problems) == 3
    assert problems[0].startswith("t.a: found text, expected integer")
    assert "ALTER TABLE t ALTER COLUMN a TYPE integer" in problems[0]
    assert problems[1].startswith("t.b: found NOT NULL, expected nullable") and "DROP NOT NULL" in problems[1]
    assert problems[2].startswith("t.c: a NOT NULL column without a default that the ETL does not write")


def test_diff_and_report_lines():
    before = {("column", "t.a"): "integer", ("policy", "t.p"): "SELECT TO x USING (true)"}
    after = {("column", "t.a"): "bigint", ("policy", "t.p"): "SELECT TO x USING (true)", ("table", "u"): "table",
             ("column", "u.id"): "integer", ("index", "u.u_pkey"): "..."}
    changes = diff(before, after)
    assert [c.sign for c in changes] == ["~", "+", "+", "+"]
    report = MigrationReport(applied=True, created_tables=["u"], changes=changes, repairs=["tenant 1 fixed"])
    assert report.lines() == ["+ table u: created (1 columns, 1 indexes)", "~ column t.a: integer -> bigint",
                              "* tenant 1 fixed"]
    assert MigrationReport(applied=False).lines() == ["nothing to change: the database is up to date"]


def test_an_index_is_the_same_whatever_its_name():
    a = Index("idx_owner", "CREATE UNIQUE INDEX idx_owner ON public.t USING btree (tenant_id, conversation_id)")
    b = Index("ours", "CREATE UNIQUE INDEX ours ON chatwoot_etl_expected.t USING btree (tenant_id, conversation_id)")
    assert a.shape == b.shape == "UNIQUE USING btree (tenant_id, conversation_id)"
    assert Change("+", "index", "t.x", "d").describe() == "+ index t.x: d"
