-- Which tenant an inbox's whole history has been loaded for, under which mapping version (the
-- mapping's updated_at as stored there). An inbox with no row here for its current tenant (new,
-- moved, re-activated) is read from the start.
CREATE TABLE etl_inbox_sync_state (
    inbox_id            integer     PRIMARY KEY,
    tenant_id           integer     NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    mapping_updated_at  timestamp   NOT NULL,
    history_loaded_at   timestamptz NOT NULL DEFAULT now(),
    execution_id        uuid
);
