"""The registry snapshot the DAG files read: atomic writes, the last good copy, tolerant reading."""

from __future__ import annotations

from chatwoot_etl.contract import DEFAULT_TIMEZONE
from chatwoot_etl.orchestration import registry

ALLPFIT = registry.TenantEntry(1, "AllpFit CrossFit", "allpfit", inboxes=[11, 12])


def test_write_then_read_round_trips_and_keeps_a_last_good_copy(tmp_path):
    path = tmp_path / "tenants.json"
    registry.write([ALLPFIT], path)
    snapshot = registry.read(path)
    assert snapshot.tenants == (ALLPFIT,) and snapshot.origin == "snapshot"
    assert registry.last_good_path(path).read_text() == path.read_text()
    assert list(tmp_path.glob(".*.tmp")) == []        # no temp file left behind


def test_a_broken_snapshot_falls_back_to_the_last_good_copy_then_to_empty(tmp_path):
    path = tmp_path / "tenants.json"
    registry.write([ALLPFIT], path)
    path.write_text("{ half written")
    assert registry.read(path).origin == "last-good" and registry.read(path).tenants == (ALLPFIT,)
    registry.last_good_path(path).write_text('{"version": 99, "tenants": []}')
    assert registry.read(path).tenants == () and registry.read(path).origin == "empty"


def test_rows_become_entries_and_a_bad_cron_is_reported_and_falls_back_to_the_default(caplog):
    entries = registry.entries_from_rows([(2, "Clínica", "clinica", None, "61 * * * *", [5, 3]),
                                          (1, "AllpFit CrossFit", "allpfit", "America/Recife", " 0 6 * * * ", None)])
    assert entries[0] == registry.TenantEntry(2, "Clínica", "clinica", DEFAULT_TIMEZONE, None, [3, 5])
    assert entries[1].schedule == "0 6 * * *" and entries[1].timezone == "America/Recife"
    assert entries[1].dag_id == "chatwoot_sync_tenant_1"
    assert "tenant=2 key=tenants.sync_schedule value='61 * * * *' problem='not a valid cron expression'" in caplog.text
