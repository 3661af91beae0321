-- Rows that could not be transformed or loaded: the reason and the raw row, nothing lost.
CREATE TABLE etl_quarantine (
    id               bigserial   PRIMARY KEY,
    tenant_id        integer     NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    execution_id     uuid        NOT NULL,
    conversation_id  text,
    inbox_id         text,
    reason           text        NOT NULL,
    raw_row          jsonb       NOT NULL,
    quarantined_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX etl_quarantine_tenant_idx ON etl_quarantine (tenant_id, quarantined_at DESC);
