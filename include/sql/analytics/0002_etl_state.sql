-- What the ETL keeps about itself. None of these tables has row-level security:
-- the ETL must read and write every tenant's rows here.

-- One row per execution (the existing run log), plus what the engine adds.
CREATE TABLE IF NOT EXISTS etl_control (
    id                bigserial   PRIMARY KEY,
    tenant_id         integer     NOT NULL REFERENCES tenants (id),
    execution_id      uuid        NOT NULL UNIQUE,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    duration_seconds  numeric,
    load_type         text        NOT NULL CHECK (load_type IN ('full', 'incremental', 'window')),
    status            text        NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'success', 'failed', 'refused')),
    triggered_by      text,
    watermark_start   timestamptz,
    watermark_end     timestamptz,
    records_extracted integer     NOT NULL DEFAULT 0,
    records_inserted  integer     NOT NULL DEFAULT 0,
    records_updated   integer     NOT NULL DEFAULT 0,
    records_unchanged integer     NOT NULL DEFAULT 0,
    records_deleted   integer     NOT NULL DEFAULT 0,
    records_failed    integer     NOT NULL DEFAULT 0,
    chunks_committed  integer     NOT NULL DEFAULT 0,
    error_message     text,
    error_details     jsonb
);
CREATE INDEX IF NOT EXISTS etl_control_tenant_started_idx ON etl_control (tenant_id, started_at DESC);
CREATE INDEX IF NOT EXISTS etl_control_running_idx ON etl_control (tenant_id) WHERE status = 'running';

-- The tenant's position in the source: the last (updated_at, conversation_id) written.
-- Advanced in the same transaction as the chunk it covers.
CREATE TABLE IF NOT EXISTS etl_watermarks (
    tenant_id        integer     PRIMARY KEY REFERENCES tenants (id),
    updated_at       timestamptz NOT NULL,
    conversation_id  integer     NOT NULL,
    execution_id     uuid,
    changed_at       timestamptz NOT NULL DEFAULT now()
);

-- Which tenant an inbox's whole history has been loaded for, and under which mapping version.
-- An inbox with no row here for its current tenant (new, moved, re-activated) is read from the start.
CREATE TABLE IF NOT EXISTS etl_inbox_sync_state (
    inbox_id            integer     PRIMARY KEY,
    tenant_id           integer     NOT NULL REFERENCES tenants (id),
    mapping_updated_at  timestamptz NOT NULL,
    history_loaded_at   timestamptz NOT NULL DEFAULT now(),
    execution_id        uuid
);

-- Rows that could not be transformed or loaded: the reason and the raw row, nothing lost.
CREATE TABLE IF NOT EXISTS etl_quarantine (
    id               bigserial   PRIMARY KEY,
    tenant_id        integer     NOT NULL REFERENCES tenants (id),
    execution_id     uuid        NOT NULL,
    conversation_id  text,
    inbox_id         text,
    reason           text        NOT NULL,
    raw_row          jsonb       NOT NULL,
    quarantined_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS etl_quarantine_tenant_idx ON etl_quarantine (tenant_id, quarantined_at DESC);

-- Alerts raised by task failure callbacks and freshness checks.
CREATE TABLE IF NOT EXISTS etl_alerts (
    id            bigserial   PRIMARY KEY,
    raised_at     timestamptz NOT NULL DEFAULT now(),
    severity      text        NOT NULL CHECK (severity IN ('warning', 'error')),
    kind          text        NOT NULL,
    tenant_id     integer,
    dag_id        text,
    task_id       text,
    run_id        text,
    try_number    integer,
    message       text        NOT NULL,
    log_url       text,
    details       jsonb
);
CREATE INDEX IF NOT EXISTS etl_alerts_raised_idx ON etl_alerts (raised_at DESC);
