-- The reconcile step of each Airflow run: source vs target counts of the synced window,
-- recorded on the run's etl_control row. 'explained' = differences a re-run accounts for
-- (late commits inside the lookback, rows changed again after the run, quarantined rows).
ALTER TABLE etl_control
    ADD COLUMN IF NOT EXISTS reconciled_at     timestamptz,
    ADD COLUMN IF NOT EXISTS reconcile_status  text
        CHECK (reconcile_status IN ('match', 'explained', 'mismatch', 'skipped')),
    ADD COLUMN IF NOT EXISTS source_rows       integer,
    ADD COLUMN IF NOT EXISTS target_rows       integer,
    ADD COLUMN IF NOT EXISTS source_leads      integer,
    ADD COLUMN IF NOT EXISTS target_leads      integer,
    ADD COLUMN IF NOT EXISTS source_visits     integer,
    ADD COLUMN IF NOT EXISTS target_visits     integer,
    ADD COLUMN IF NOT EXISTS reconcile_details jsonb;

CREATE INDEX IF NOT EXISTS etl_control_reconcile_mismatch_idx
    ON etl_control (tenant_id, started_at DESC) WHERE reconcile_status = 'mismatch';

-- Alerts are read newest first per tenant and kind (freshness de-duplication, on-call queries).
CREATE INDEX IF NOT EXISTS etl_alerts_tenant_kind_idx ON etl_alerts (tenant_id, kind, raised_at DESC);
