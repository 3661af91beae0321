-- Alerts raised by task failure callbacks and freshness checks.
CREATE TABLE etl_alerts (
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
CREATE INDEX etl_alerts_raised_idx ON etl_alerts (raised_at DESC);
-- Read newest first per tenant and kind (freshness de-duplication, on-call queries).
CREATE INDEX etl_alerts_tenant_kind_idx ON etl_alerts (tenant_id, kind, raised_at DESC);
