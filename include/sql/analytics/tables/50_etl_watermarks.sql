-- What the ETL keeps about itself, in tables of its own (no row-level security: the ETL reads and
-- writes every tenant's rows here). Instants are timestamptz.

-- The tenant's position in the source: the last (updated_at, conversation_id) written, advanced in
-- the same transaction as the chunk it covers; mirrored_value is what the ETL last wrote to the
-- tenant's watermark Variable (an equal Variable is our own lagging mirror, not an operator's rewind).
CREATE TABLE etl_watermarks (
    tenant_id        integer     PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    updated_at       timestamptz NOT NULL,
    conversation_id  integer     NOT NULL,
    execution_id     uuid,
    changed_at       timestamptz NOT NULL DEFAULT now(),
    mirrored_value   text
);
