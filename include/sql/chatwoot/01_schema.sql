-- Chatwoot-shaped base tables: the columns, types and integer enums of Chatwoot's
-- db/schema.rb (Schema[7.1], version 2025_08_16) that the deployed analytics views read, plus a
-- few neighbours for realism. Timestamps hold naive UTC, as Rails writes them, with Rails' own
-- precisions: the older tables' created_at / updated_at are plain `timestamp` (precision: nil),
-- newer columns are `timestamp(6)` (conversations.waiting_since, csat_survey_responses, teams,
-- contact_inboxes, account_users); Rails `string` is `character varying`, `text` is `text`.
-- The views pass these types through uncast, so the view's columns carry them too.
-- Idempotent: safe to apply to a database that already has them.

CREATE TABLE IF NOT EXISTS accounts (
    id                serial PRIMARY KEY,
    name              character varying NOT NULL,
    locale            integer DEFAULT 0,               -- Rails enum index into Chatwoot's LANGUAGES_CONFIG
    domain            character varying(100),
    support_email     character varying(100),
    status            integer DEFAULT 0,               -- 0 active, 1 suspended
    feature_flags     bigint NOT NULL DEFAULT 0,
    custom_attributes jsonb DEFAULT '{}'::jsonb,
    created_at        timestamp without time zone NOT NULL,
    updated_at        timestamp without time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS index_accounts_on_status ON accounts (status);

CREATE TABLE IF NOT EXISTS users (
    id            serial PRIMARY KEY,
    provider      character varying NOT NULL DEFAULT 'email',
    uid           character varying NOT NULL DEFAULT '',
    name          character varying NOT NULL,
    display_name  character varying,
    email         character varying,
    availability  integer DEFAULT 0,                   -- 0 online, 1 offline, 2 busy
    type          character varying,                   -- NULL or 'SuperAdmin'
    custom_attributes jsonb DEFAULT '{}'::jsonb,
    created_at    timestamp without time zone NOT NULL,
    updated_at    timestamp without time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_users_on_email ON users (email);

CREATE TABLE IF NOT EXISTS account_users (
    id            bigserial PRIMARY KEY,
    account_id    bigint REFERENCES accounts (id) ON DELETE CASCADE,
    user_id       bigint REFERENCES users (id) ON DELETE CASCADE,
    role          integer DEFAULT 0,                   -- 0 agent, 1 administrator
    inviter_id    bigint,
    availability  integer NOT NULL DEFAULT 0,
    auto_offline  boolean NOT NULL DEFAULT true,
    created_at    timestamp(6) without time zone NOT NULL,
    updated_at    timestamp(6) without time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uniq_user_id_per_account_id ON account_users (account_id, user_id);
CREATE INDEX IF NOT EXISTS index_account_users_on_user_id ON account_users (user_id);

CREATE TABLE IF NOT EXISTS teams (
    id                bigserial PRIMARY KEY,
    name              character varying NOT NULL,
    description       text,
    allow_auto_assign boolean DEFAULT true,
    account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        timestamp(6) without time zone NOT NULL,
    updated_at        timestamp(6) without time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_teams_on_name_and_account_id ON teams (name, account_id);
CREATE INDEX IF NOT EXISTS index_teams_on_account_id ON teams (account_id);

CREATE TABLE IF NOT EXISTS inboxes (
    id                      serial PRIMARY KEY,
    channel_id              integer NOT NULL,
    account_id              integer NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name                    character varying NOT NULL,
    channel_type            character varying,         -- 'Channel::Whatsapp', 'Channel::Api', ...
    enable_auto_assignment  boolean DEFAULT true,
    greeting_enabled        boolean DEFAULT false,
    greeting_message        character varying,
    email_address           character varying,
    working_hours_enabled   boolean DEFAULT false,
    out_of_office_message   character varying,
    timezone                character varying DEFAULT 'UTC',   -- IANA name
    csat_survey_enabled     boolean DEFAULT false,
    allow_messages_after_resolved boolean DEFAULT true,
    portal_id               bigint,
    sender_name_type        integer NOT NULL DEFAULT 0,
    business_name           character varying,
    created_at              timestamp without time zone NOT NULL,
    updated_at              timestamp without time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS index_inboxes_on_account_id ON inboxes (account_id);
CREATE INDEX IF NOT EXISTS index_inboxes_on_channel_id_and_channel_type ON inboxes (channel_id, channel_type);

CREATE TABLE IF NOT EXISTS contacts (
    id                    serial PRIMARY KEY,
    name                  character varying DEFAULT '',
    email                 character varying,
    phone_number          character varying,
    account_id            integer NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    identifier            character varying,
    contact_type          integer DEFAULT 0,           -- 0 visitor, 1 lead, 2 customer
    custom_attributes     jsonb DEFAULT '{}'::jsonb,
    additional_attributes jsonb DEFAULT '{}'::jsonb,
    middle_name           character varying DEFAULT '',
    last_name             character varying DEFAULT '',
    location              character varying DEFAULT '',
    country_code          character varying DEFAULT '',
    blocked               boolean NOT NULL DEFAULT false,
    created_at            timestamp without time zone NOT NULL,
    updated_at            timestamp without time zone NOT NULL,
    last_activity_at      timestamp without time zone
);
CREATE INDEX IF NOT EXISTS index_contacts_on_account_id ON contacts (account_id);
CREATE UNIQUE INDEX IF NOT EXISTS uniq_email_per_account_contact ON contacts (email, account_id);
CREATE UNIQUE INDEX IF NOT EXISTS uniq_identifier_per_account_contact ON contacts (identifier, account_id);
CREATE INDEX IF NOT EXISTS index_contacts_on_phone_number_and_account_id ON contacts (phone_number, account_id);

CREATE TABLE IF NOT EXISTS contact_inboxes (
    id             bigserial PRIMARY KEY,
    contact_id     bigint REFERENCES contacts (id) ON DELETE CASCADE,
    inbox_id       bigint REFERENCES inboxes (id) ON DELETE CASCADE,
    source_id      character varying NOT NULL,         -- e.g. the WhatsApp number, unique per inbox
    hmac_verified  boolean DEFAULT false,
    pubsub_token   character varying,
    created_at     timestamp(6) without time zone NOT NULL,
    updated_at     timestamp(6) without time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_contact_inboxes_on_inbox_id_and_source_id ON contact_inboxes (inbox_id, source_id);
CREATE INDEX IF NOT EXISTS index_contact_inboxes_on_contact_id ON contact_inboxes (contact_id);

CREATE TABLE IF NOT EXISTS conversations (
    id                     serial PRIMARY KEY,         -- global serial; display_id is per account
    account_id             integer NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    inbox_id               integer NOT NULL REFERENCES inboxes (id) ON DELETE CASCADE,
    status                 integer NOT NULL DEFAULT 0, -- 0 open, 1 resolved, 2 pending, 3 snoozed
    assignee_id            integer REFERENCES users (id) ON DELETE SET NULL,
    created_at             timestamp without time zone NOT NULL,
    updated_at             timestamp without time zone NOT NULL,
    contact_id             bigint REFERENCES contacts (id) ON DELETE CASCADE,
    display_id             integer NOT NULL,
    contact_last_seen_at   timestamp without time zone,
    agent_last_seen_at     timestamp without time zone,
    additional_attributes  jsonb DEFAULT '{}'::jsonb,
    contact_inbox_id       bigint REFERENCES contact_inboxes (id) ON DELETE CASCADE,
    uuid                   uuid NOT NULL DEFAULT gen_random_uuid(),
    identifier             character varying,
    last_activity_at       timestamp without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    team_id                bigint REFERENCES teams (id) ON DELETE SET NULL,
    campaign_id            bigint,                     -- campaigns are not modelled here
    snoozed_until          timestamp without time zone,
    custom_attributes      jsonb DEFAULT '{}'::jsonb,
    assignee_last_seen_at  timestamp without time zone,
    first_reply_created_at timestamp without time zone,
    priority               integer,                    -- NULL none, 0 low, 1 medium, 2 high, 3 urgent
    sla_policy_id          bigint,
    waiting_since          timestamp(6) without time zone,
    cached_label_list      text
);
CREATE UNIQUE INDEX IF NOT EXISTS index_conversations_on_account_id_and_display_id ON conversations (account_id, display_id);
CREATE UNIQUE INDEX IF NOT EXISTS index_conversations_on_uuid ON conversations (uuid);
CREATE INDEX IF NOT EXISTS index_conversations_on_account_id_and_inbox_id ON conversations (account_id, inbox_id);
CREATE INDEX IF NOT EXISTS conv_acid_inbid_stat_asgnid_idx ON conversations (account_id, inbox_id, status, assignee_id);
CREATE INDEX IF NOT EXISTS index_conversations_on_updated_at ON conversations (updated_at);
CREATE INDEX IF NOT EXISTS index_conversations_on_contact_id ON conversations (contact_id);
CREATE INDEX IF NOT EXISTS index_conversations_on_contact_inbox_id ON conversations (contact_inbox_id);
CREATE INDEX IF NOT EXISTS index_conversations_on_team_id ON conversations (team_id);
CREATE INDEX IF NOT EXISTS index_conversations_on_last_activity_at ON conversations (last_activity_at);

CREATE TABLE IF NOT EXISTS messages (
    id                 serial PRIMARY KEY,
    content            text,
    account_id         integer NOT NULL,
    inbox_id           integer NOT NULL,
    conversation_id    integer NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_type       integer NOT NULL,               -- 0 incoming, 1 outgoing, 2 activity, 3 template
    private            boolean NOT NULL DEFAULT false, -- private notes are outgoing + private
    status             integer DEFAULT 0,              -- 0 sent, 1 delivered, 2 read, 3 failed
    source_id          character varying,
    content_type       integer NOT NULL DEFAULT 0,     -- 0 text, ... 9 input_csat
    content_attributes json DEFAULT '{}'::json,
    sender_type        character varying,              -- 'Contact', 'User', 'AgentBot', 'Captain::Assistant', NULL
    sender_id          bigint,
    external_source_ids jsonb DEFAULT '{}'::jsonb,
    additional_attributes jsonb DEFAULT '{}'::jsonb,
    processed_message_content text,
    sentiment          jsonb DEFAULT '{}'::jsonb,
    created_at         timestamp without time zone NOT NULL,
    updated_at         timestamp without time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS index_messages_on_conversation_id ON messages (conversation_id);
CREATE INDEX IF NOT EXISTS index_messages_on_account_created_type ON messages (account_id, created_at, message_type);
CREATE INDEX IF NOT EXISTS index_messages_on_sender_type_and_sender_id ON messages (sender_type, sender_id);

CREATE TABLE IF NOT EXISTS csat_survey_responses (
    id                bigserial PRIMARY KEY,
    account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    conversation_id   bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id        bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    rating            integer NOT NULL,                -- 1..5
    feedback_message  text,
    contact_id        bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    assigned_agent_id bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamp(6) without time zone NOT NULL,
    updated_at        timestamp(6) without time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_csat_survey_responses_on_message_id ON csat_survey_responses (message_id);
CREATE INDEX IF NOT EXISTS index_csat_survey_responses_on_conversation_id ON csat_survey_responses (conversation_id);
CREATE INDEX IF NOT EXISTS index_csat_survey_responses_on_account_id ON csat_survey_responses (account_id);
