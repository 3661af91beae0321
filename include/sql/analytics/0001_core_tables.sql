-- Tables the dashboards read. Names and meanings are those of the existing system;
-- instants are timestamptz (UTC) so no reader can misread a zone.

CREATE TABLE IF NOT EXISTS tenants (
    id          serial PRIMARY KEY,
    name        text        NOT NULL,
    slug        text        NOT NULL UNIQUE,
    account_id  integer     UNIQUE,                     -- the tenant's Chatwoot account
    status      text        NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'suspended', 'cancelled', 'trial')),
    timezone    text        NOT NULL DEFAULT 'America/Sao_Paulo',
    lead_rules  jsonb,                                  -- per-tenant override of the lead classifier
    sync_schedule text,                                 -- per-tenant cron override of the DAG schedule
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

-- Tenant 0 is the platform's admin tenant: it owns no inbox and sees every row.
INSERT INTO tenants (id, name, slug, account_id, status)
VALUES (0, 'Platform admin', 'admin', NULL, 'active')
ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS inbox_tenant_mapping (
    inbox_id     integer     PRIMARY KEY,               -- an inbox belongs to at most one tenant
    tenant_id    integer     NOT NULL REFERENCES tenants (id),
    inbox_name   text,
    channel_type text,
    is_active    boolean     NOT NULL DEFAULT true,
    mapped_by    text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS inbox_tenant_mapping_tenant_idx
    ON inbox_tenant_mapping (tenant_id) WHERE is_active;

CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE TRIGGER tenants_touch BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER inbox_tenant_mapping_touch BEFORE UPDATE ON inbox_tenant_mapping
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE IF NOT EXISTS conversations_analytics (
    tenant_id                         integer     NOT NULL REFERENCES tenants (id),
    -- identity
    conversation_id                   integer     NOT NULL,
    display_id                        integer,
    conversation_uuid                 uuid,
    account_id                        integer,
    inbox_id                          integer,
    contact_id                        bigint,
    assignee_id                       integer,
    team_id                           bigint,
    campaign_id                       bigint,
    -- state
    status                            integer,
    status_label_pt                   varchar(50),
    priority                          integer,
    priority_label                    varchar(50),
    priority_score                    integer,
    snoozed_until                     timestamptz,
    -- names
    account_name                      varchar(255),
    inbox_name                        varchar(255),
    inbox_channel_type                varchar(100),
    inbox_timezone                    varchar(100),
    contact_name                      varchar(255),
    contact_email                     varchar(255),
    contact_phone                     varchar(50),
    contact_identifier                varchar(255),
    assignee_name                     varchar(255),
    assignee_email                    varchar(255),
    team_name                         varchar(255),
    -- timestamps
    conversation_created_at           timestamptz,
    conversation_updated_at           timestamptz,
    last_activity_at                  timestamptz,
    first_reply_created_at            timestamptz,
    waiting_since                     timestamptz,
    contact_last_seen_at              timestamptz,
    agent_last_seen_at                timestamptz,
    -- messages
    message_compiled                  jsonb,
    client_sender_id                  bigint,
    client_phone                      varchar(50),
    t_messages                        bigint,
    total_messages_public             bigint,
    total_messages_private            bigint,
    mc_first_message_at               timestamptz,
    mc_last_message_at                timestamptz,
    -- CSAT
    csat_response_id                  bigint,
    csat_rating                       integer,
    csat_feedback                     text,
    csat_created_at                   timestamptz,
    csat_nps_category                 varchar(20),
    csat_sentiment_category           varchar(20),
    has_written_feedback              boolean,
    has_detailed_feedback             boolean,
    has_csat                          boolean,
    -- metrics
    first_response_time_seconds       integer,
    first_response_time_minutes       numeric,
    resolution_time_seconds           integer,
    is_assigned                       boolean,
    has_team                          boolean,
    is_resolved                       boolean,
    is_open                           boolean,
    is_pending                        boolean,
    is_snoozed                        boolean,
    has_contact                       boolean,
    is_waiting                        boolean,
    has_priority                      boolean,
    is_high_priority                  boolean,
    is_from_campaign                  boolean,
    is_fast_response                  boolean,
    is_slow_response                  boolean,
    is_fast_resolution                boolean,
    is_waiting_long                   boolean,
    contact_has_seen                  boolean,
    agent_has_seen                    boolean,
    -- message statistics (public messages)
    user_messages_count               bigint,
    contact_messages_count            bigint,
    private_notes_count               bigint,
    first_message_text                varchar(1000),
    last_message_text                 varchar(1000),
    first_message_sender_type         varchar(50),
    last_message_sender_type          varchar(50),
    conversation_duration_seconds     integer,
    avg_time_between_messages_seconds numeric,
    avg_message_length                integer,
    max_message_length                integer,
    has_user_messages                 boolean,
    has_contact_messages              boolean,
    has_private_notes                 boolean,
    has_contact_reply                 boolean,
    is_short_conversation             boolean,
    is_long_conversation              boolean,
    user_message_ratio                numeric,
    contact_message_ratio             numeric,
    has_human_intervention            boolean,
    is_bot_resolved                   boolean,
    -- calendar, in the tenant's time zone
    conversation_timezone             varchar(64),
    conversation_date                 date,
    conversation_year                 integer,
    conversation_month                integer,
    conversation_day                  integer,
    conversation_day_of_week          integer CHECK (conversation_day_of_week BETWEEN 0 AND 6), -- Sunday = 0
    conversation_hour                 integer,
    conversation_minute               integer,
    conversation_week_of_year         integer,
    conversation_quarter              integer,
    conversation_day_name             varchar(20),
    conversation_month_name           varchar(20),
    conversation_period               varchar(20),
    is_weekday                        boolean,
    is_weekend                        boolean,
    is_business_hours                 boolean,
    is_night_time                     boolean,
    conversation_date_formatted       varchar(10),
    conversation_datetime_formatted   varchar(16),
    conversation_year_month           varchar(7),
    conversation_year_week            varchar(8),
    -- lead signals
    is_lead                           boolean,
    visit_scheduled                   boolean,
    crm_converted                     boolean,
    ai_probability_label              varchar(20),
    ai_probability_score              smallint CHECK (ai_probability_score BETWEEN 0 AND 100),
    -- bookkeeping
    etl_inserted_at                   timestamptz NOT NULL DEFAULT now(),
    etl_updated_at                    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversations_analytics_tenant_conversation_key UNIQUE (tenant_id, conversation_id),
    -- Chatwoot conversation ids are global: one conversation is never stored under two tenants.
    CONSTRAINT conversations_analytics_conversation_key UNIQUE (conversation_id)
);
CREATE INDEX IF NOT EXISTS conversations_analytics_tenant_date_idx
    ON conversations_analytics (tenant_id, conversation_date);
CREATE INDEX IF NOT EXISTS conversations_analytics_tenant_inbox_idx
    ON conversations_analytics (tenant_id, inbox_id);
