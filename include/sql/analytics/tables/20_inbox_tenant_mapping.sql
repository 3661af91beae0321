-- Which tenant each Chatwoot inbox belongs to (at most one: the primary key). An inbox is synced
-- for its tenant only while is_active IS TRUE.
CREATE TABLE inbox_tenant_mapping (
    inbox_id      integer      PRIMARY KEY,
    tenant_id     integer      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    inbox_name    varchar(255),
    channel_type  varchar(50),
    is_active     boolean      DEFAULT true,
    created_at    timestamp    DEFAULT now(),
    updated_at    timestamp    DEFAULT now(),
    -- the ETL's addition
    mapped_by     text
);
CREATE INDEX idx_inbox_tenant_id ON inbox_tenant_mapping (tenant_id);
CREATE INDEX idx_inbox_active ON inbox_tenant_mapping (is_active);

CREATE TRIGGER inbox_tenant_mapping_touch BEFORE UPDATE ON inbox_tenant_mapping
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
