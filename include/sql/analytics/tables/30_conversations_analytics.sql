-- One row per (tenant, Chatwoot conversation): the table the dashboards read, with the owner's
-- columns, names and types, plus conversation_timezone (the zone of the calendar fields).
--
-- Which zone each naive timestamp holds:
--   the 11 Chatwoot instants (conversation_created_at ... csat_created_at)  UTC, as Chatwoot stores them
--   etl_inserted_at, etl_updated_at                                        UTC (the ETL's sessions run in UTC)
-- The calendar fields (conversation_date ... conversation_year_week) are the tenant's local calendar
-- (tenants.timezone); the relative-to-now fields (days_since_creation, is_today ... is_this_year,
-- waiting_time_seconds) are as of the row's last write.
CREATE TABLE conversations_analytics (
    id                                serial       PRIMARY KEY,
    tenant_id                         integer      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id                   integer      NOT NULL,
    -- identity
    display_id                        integer,
    conversation_uuid                 uuid,
    account_id                        integer,
    inbox_id                          integer,
    contact_id                        integer,
    assignee_id                       integer,
    team_id                           integer,
    campaign_id                       integer,
    -- state
    status                            integer,                 -- 0 open, 1 resolved, 2 pending
    status_label_pt                   varchar(50),
    priority                          integer,
    priority_label                    varchar(20),
    priority_score                    integer,
    snoozed_until                     timestamp,
    -- names
    account_name                      varchar(255),
    inbox_name                        varchar(255),
    inbox_channel_type                varchar(50),
    inbox_timezone                    varchar(50),
    contact_name                      varchar(255),
    contact_email                     varchar(255),
    contact_phone                     varchar(50),
    contact_identifier                varchar(255),
    assignee_name                     varchar(255),
    assignee_email                    varchar(255),
    team_name                         varchar(255),
    -- Chatwoot's instants (naive UTC)
    conversation_created_at           timestamp,
    conversation_updated_at           timestamp,
    last_activity_at                  timestamp,
    first_reply_created_at            timestamp,
    waiting_since                     timestamp,
    contact_last_seen_at              timestamp,
    agent_last_seen_at                timestamp,
    -- messages
    message_compiled                  jsonb,
    client_sender_id                  integer,
    client_phone                      varchar(50),
    t_messages                        integer,
    total_messages_public             integer,
    total_messages_private            integer,
    mc_first_message_at               timestamp,
    mc_last_message_at                timestamp,
    -- CSAT
    csat_response_id                  integer,
    csat_rating                       integer,
    csat_feedback                     text,
    csat_created_at                   timestamp,
    csat_nps_category                 varchar(50),
    csat_sentiment_category           varchar(50),
    has_written_feedback              boolean,
    has_detailed_feedback             boolean,
    has_csat                          boolean,
    -- metrics
    first_response_time_seconds       integer,
    first_response_time_minutes       numeric(10,1),
    resolution_time_seconds           integer,
    waiting_time_seconds              integer,
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
    user_messages_count               integer,
    contact_messages_count            integer,
    private_notes_count               integer,
    first_message_text                text,
    last_message_text                 text,
    first_message_sender_type         varchar(50),
    last_message_sender_type          varchar(50),
    conversation_duration_seconds     integer,
    avg_time_between_messages_seconds numeric(10,1),
    avg_message_length                integer,
    max_message_length                integer,
    has_user_messages                 boolean,
    has_contact_messages              boolean,
    has_private_notes                 boolean,
    has_contact_reply                 boolean,
    is_short_conversation             boolean,
    is_long_conversation              boolean,
    user_message_ratio                numeric(5,2),
    contact_message_ratio             numeric(5,2),
    has_human_intervention            boolean,
    is_bot_resolved                   boolean,
    -- calendar, in the tenant's time zone
    conversation_date                 date,
    conversation_year                 integer,
    conversation_month                integer,
    conversation_day                  integer,
    conversation_day_of_week          integer,                 -- Sunday = 0
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
    conversation_date_formatted       varchar(20),
    conversation_datetime_formatted   varchar(30),
    conversation_year_month           varchar(10),
    conversation_year_week            varchar(10),
    -- relative to the row's last write, in the tenant's time zone
    days_since_creation               integer,
    is_today                          boolean,
    is_yesterday                      boolean,
    is_this_week                      boolean,
    is_this_month                     boolean,
    is_this_year                      boolean,
    -- bookkeeping (naive UTC)
    etl_inserted_at                   timestamp    DEFAULT now(),
    etl_updated_at                    timestamp    DEFAULT now(),
    -- lead signals: label Alto / Médio / Baixo / N/A, score 0-100
    is_lead                           boolean      DEFAULT false,
    visit_scheduled                   boolean      DEFAULT false,
    crm_converted                     boolean      DEFAULT false,
    ai_probability_label              varchar(50),
    ai_probability_score              numeric(5,2),
    -- the ETL's additions: the zone of the calendar fields, the lead rules the signals come from
    conversation_timezone             varchar(64),
    lead_rules_version                varchar(40)                 -- "<pack>:<fingerprint>", as in etl_control
);
-- The upsert's key.
CREATE UNIQUE INDEX idx_conversations_tenant_conv_unique ON conversations_analytics (tenant_id, conversation_id);
-- Chatwoot conversation ids are global: one conversation is never stored under two tenants.
CREATE UNIQUE INDEX conversations_analytics_conversation_key ON conversations_analytics (conversation_id);
CREATE INDEX idx_conversations_tenant_date ON conversations_analytics (tenant_id, conversation_date);
CREATE INDEX idx_conversations_tenant_id ON conversations_analytics (tenant_id);
CREATE INDEX idx_conversations_inbox_id ON conversations_analytics (inbox_id);
CREATE INDEX idx_conversations_contact_id ON conversations_analytics (contact_id);
CREATE INDEX idx_conversations_status ON conversations_analytics (status);
CREATE INDEX idx_conversations_created_at ON conversations_analytics (conversation_created_at);
CREATE INDEX idx_conversations_date ON conversations_analytics (conversation_date);
CREATE INDEX idx_conversations_year_month ON conversations_analytics (conversation_year_month);

-- Created with the table only: an adopted database keeps its own etl_updated_at trigger.
CREATE OR REPLACE FUNCTION touch_etl_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.etl_updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER conversations_analytics_touch BEFORE UPDATE ON conversations_analytics
    FOR EACH ROW EXECUTE FUNCTION touch_etl_updated_at();
