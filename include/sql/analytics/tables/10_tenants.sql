-- The registry of client businesses, in the shape the dashboards read (their columns, types and
-- defaults), plus what the ETL adds: the tenant's time zone, lead-rule pack and overrides, schedule.
-- Naive timestamps here hold the writing session's wall time: the database's TimeZone,
-- America/Sao_Paulo, for the dashboards and for the ETL's administration commands alike.
CREATE TABLE tenants (
    id                 serial       PRIMARY KEY,
    name               varchar(255) NOT NULL,
    slug               varchar(100) NOT NULL UNIQUE,
    inbox_ids          integer[]    NOT NULL DEFAULT '{}',   -- kept equal to the active mappings by triggers
    account_id         integer,                               -- the tenant's Chatwoot account
    status             varchar(20)  DEFAULT 'active'
                       CHECK (status IN ('active', 'suspended', 'cancelled', 'trial')),
    plan               varchar(50)  DEFAULT 'basic'
                       CHECK (plan IN ('basic', 'pro', 'enterprise', 'custom', 'internal')),
    trial_ends_at      timestamp,
    max_conversations  integer      DEFAULT -1,               -- -1: unlimited
    max_users          integer      DEFAULT 5,
    max_inboxes        integer      DEFAULT 10,
    created_at         timestamp    DEFAULT now(),
    updated_at         timestamp    DEFAULT now(),
    deleted_at         timestamp,
    -- the ETL's additions
    timezone           text         NOT NULL DEFAULT 'America/Sao_Paulo',
    lead_pack          text,                                  -- the lead rules' vertical pack (NULL: generic)
    lead_rules         jsonb,                                 -- per-tenant override of the lead classifier
    sync_schedule      text                                   -- per-tenant cron override of the DAG schedule
);
CREATE UNIQUE INDEX idx_tenants_slug ON tenants (slug) WHERE deleted_at IS NULL;
CREATE INDEX idx_tenants_status ON tenants (status);
CREATE INDEX idx_tenants_inbox_ids ON tenants USING gin (inbox_ids);
-- One tenant per Chatwoot account.
CREATE UNIQUE INDEX tenants_account_id_key ON tenants (account_id);

-- Created with the table only: an adopted database keeps its own updated_at trigger.
CREATE TRIGGER tenants_touch BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
