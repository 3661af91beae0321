-- One row per execution: the run log, in the owner's shape, plus what the engine records
-- (unchanged / deleted rows, committed chunks, the reconcile step). Naive timestamps hold UTC.
CREATE TABLE etl_control (
    id                 serial       PRIMARY KEY,
    tenant_id          integer      REFERENCES tenants (id) ON DELETE CASCADE,   -- NULL: a global run
    execution_id       uuid         DEFAULT gen_random_uuid(),
    started_at         timestamp    DEFAULT now(),
    finished_at        timestamp,
    duration_seconds   integer,
    load_type          varchar(20),                -- full / incremental / window
    is_full_load       boolean      DEFAULT false,
    status             varchar(20),                -- running / success / failed / refused
    triggered_by       varchar(50),                -- cli, airflow:scheduled, airflow:manual, airflow:backfill
    watermark_start    timestamp,
    watermark_end      timestamp,
    records_extracted  integer,
    records_inserted   integer,
    records_updated    integer,
    records_failed     integer,
    error_message      text,
    error_details      jsonb,
    source_system      varchar(50),
    target_table       varchar(100),
    etl_version        varchar(20),
    -- the ETL's additions
    triggered_by_detail text,                      -- the whole trigger, e.g. airflow:manual:<dag run id>
    records_unchanged  integer      NOT NULL DEFAULT 0,
    records_deleted    integer      NOT NULL DEFAULT 0,
    chunks_committed   integer      NOT NULL DEFAULT 0,
    reconciled_at      timestamptz,
    reconcile_status   text,                       -- match / explained / mismatch / skipped
    source_rows        integer,
    target_rows        integer,
    source_leads       integer,
    target_leads       integer,
    source_visits      integer,
    target_visits      integer,
    reconcile_details  jsonb,
    source_strategy    varchar(20),                -- base_tables / view: what the extract read (strategy.py)
    stranded_rows      integer,                    -- conversations updated beyond the run's bound (NULL: not counted)
    lead_rules_version varchar(40)                 -- "<pack>:<fingerprint>" of the lead rules the run classified with
);
CREATE INDEX idx_etl_control_tenant_id ON etl_control (tenant_id);
CREATE INDEX idx_etl_control_started_at ON etl_control (started_at);
CREATE INDEX idx_etl_control_status ON etl_control (status);
CREATE INDEX idx_etl_control_execution_id ON etl_control (execution_id);
CREATE INDEX etl_control_tenant_started_idx ON etl_control (tenant_id, started_at DESC);
CREATE INDEX etl_control_running_idx ON etl_control (tenant_id) WHERE status = 'running';
CREATE INDEX etl_control_reconcile_mismatch_idx ON etl_control (tenant_id, started_at DESC)
    WHERE reconcile_status = 'mismatch';
