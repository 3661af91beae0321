-- Generate a realistic Chatwoot source, set-based and deterministic for a seed.
-- Run by chatwoot_etl.seed.generate() after seed_common.sql, in one transaction.
-- The first statement takes the psycopg bind parameters; the rest reads them from seed_params
-- (so the body runs as one multi-statement script, with no parameter placeholders in it).
-- Timestamps are anchored at `until` (naive UTC), never at now(): same seed, same bytes.
DROP TABLE IF EXISTS pg_temp.seed_params;
CREATE TEMP TABLE seed_params ON COMMIT DROP AS
SELECT %(seed)s::bigint                        AS seed,
       %(accounts)s::integer                   AS accounts,
       %(inboxes_per_account)s::integer        AS inboxes_per_account,
       %(conversations)s::integer              AS conversations,
       %(messages_per_conversation)s::integer  AS mpc,
       %(until)s::timestamp                    AS until,
       %(days)s::integer                       AS days,
       5                                       AS users_per_account,   -- 1 administrator + 4 agents
       3                                       AS teams_per_account;
-- @end-parameters

-- Start from empty tables so generate() is idempotent; ids restart so they only depend on the seed.
TRUNCATE csat_survey_responses, messages, conversations, contact_inboxes, contacts, inboxes,
         teams, account_users, users, accounts RESTART IDENTITY CASCADE;

-- Bulk-load pattern: maintaining secondary indexes and checking foreign keys row by row costs
-- more than the generation itself (1M messages: ~8 s of the total). The definitions are read
-- from the catalog (so 01_schema.sql stays the only place that defines them), dropped here and
-- recreated at the end, where each index is built in one sort and each foreign key is checked
-- by one join. All of it is one transaction: a failure leaves the schema as it was.
DROP TABLE IF EXISTS pg_temp.seed_deferred_ddl;
CREATE TEMP TABLE seed_deferred_ddl ON COMMIT DROP AS
WITH bulk(rel) AS (
    VALUES ('contacts'::regclass), ('contact_inboxes'::regclass), ('conversations'::regclass),
           ('messages'::regclass), ('csat_survey_responses'::regclass)
)
SELECT 'index' AS kind, b.rel::text AS rel, quote_ident(c.relname) AS name, pg_get_indexdef(i.indexrelid) AS ddl
FROM bulk b
JOIN pg_index i ON i.indrelid = b.rel
JOIN pg_class c ON c.oid = i.indexrelid
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
UNION ALL
SELECT 'foreign_key', b.rel::text, quote_ident(k.conname),
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', b.rel, k.conname, pg_get_constraintdef(k.oid))
FROM bulk b
JOIN pg_constraint k ON k.conrelid = b.rel AND k.contype = 'f';

DO $$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT * FROM seed_deferred_ddl ORDER BY kind DESC, rel, name LOOP   -- foreign keys first
        IF d.kind = 'foreign_key' THEN
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %s', d.rel, d.name);
        ELSE
            EXECUTE format('DROP INDEX %s', d.name);
        END IF;
    END LOOP;
END
$$;

-- Streams of pg_temp.seed_rand: each attribute draws from its own stream number so that
-- changing one distribution does not reshuffle the others.

-- ---------------------------------------------------------------- accounts (client businesses)
INSERT INTO accounts (id, name, locale, domain, support_email, status, created_at, updated_at)
SELECT a,
       pg_temp.seed_pick(ARRAY['Imobiliária Horizonte', 'Clínica Sorriso Perfeito', 'Auto Escola Direção Certa',
                               'Academia Corpo em Movimento', 'Escola de Idiomas Fala Bem', 'Construtora Vale Verde',
                               'Pet Shop Amigo Fiel', 'Consórcio Nacional Prime', 'Loja Bella Moda',
                               'Energia Solar Sol Nascente', 'Óticas Visão Clara', 'Faculdade São João'],
                         ((a - 1) % 12) / 12.0)
           || CASE WHEN a > 12 THEN ' ' || ((a - 1) / 12 + 1) ELSE '' END,
       13,                                            -- pt_BR in Chatwoot's language list
       'cliente' || a || '.com.br',
       'contato@cliente' || a || '.com.br',
       CASE WHEN a % 17 = 0 THEN 1 ELSE 0 END,        -- a rare suspended account
       p.until - (p.days + 400) * interval '1 day' + a * interval '1 hour',
       p.until - (p.days + 10) * interval '1 day' + a * interval '1 hour'
FROM seed_params p, generate_series(1, p.accounts) AS a;

-- ---------------------------------------------------------------- agents
INSERT INTO users (id, name, display_name, email, availability, type, created_at, updated_at)
SELECT u.id, u.full_name, split_part(u.full_name, ' ', 1),
       translate(lower(replace(u.full_name, ' ', '.')), 'áàâãéêíóôõúç', 'aaaaeeiooouc') || '.' || u.id
           || '@cliente' || u.account_id || '.com.br',
       floor(pg_temp.seed_rand(p.seed, 2, u.id) * 3)::integer,
       NULL,
       p.until - (p.days + 300) * interval '1 day' + u.id * interval '1 minute',
       p.until - (p.days + 5) * interval '1 day' + u.id * interval '1 minute'
FROM seed_params p
CROSS JOIN LATERAL (
    SELECT (a - 1) * p.users_per_account + k AS id, a AS account_id,
           pg_temp.seed_pick(ARRAY['Ana', 'Bruno', 'Carla', 'Diego', 'Eduarda', 'Felipe', 'Gabriela', 'Henrique',
                                   'Isabela', 'João', 'Juliana', 'Lucas', 'Mariana', 'Marcos', 'Natália', 'Otávio',
                                   'Patrícia', 'Rafael', 'Sabrina', 'Thiago', 'Vanessa', 'Luíza', 'Caio', 'Letícia'],
                             pg_temp.seed_rand(p.seed, 3, (a - 1) * p.users_per_account + k))
           || ' ' ||
           pg_temp.seed_pick(ARRAY['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira',
                                   'Lima', 'Gomes', 'Costa', 'Ribeiro', 'Martins', 'Carvalho', 'Araújo', 'Conceição'],
                             pg_temp.seed_rand(p.seed, 4, (a - 1) * p.users_per_account + k)) AS full_name
    FROM generate_series(1, p.accounts) AS a, generate_series(1, p.users_per_account) AS k
) u;

INSERT INTO account_users (account_id, user_id, role, created_at, updated_at)
SELECT (u.id - 1) / p.users_per_account + 1,
       u.id,
       CASE WHEN (u.id - 1) % p.users_per_account = 0 THEN 1 ELSE 0 END,   -- first user administers
       u.created_at, u.updated_at
FROM users u, seed_params p
ORDER BY u.id;

-- ---------------------------------------------------------------- teams
INSERT INTO teams (id, name, description, allow_auto_assign, account_id, created_at, updated_at)
SELECT (a - 1) * p.teams_per_account + k,
       (ARRAY['Vendas', 'Suporte', 'Financeiro'])[k],
       (ARRAY['Equipe comercial', 'Atendimento ao cliente', 'Cobrança e pagamentos'])[k],
       k <> 3,
       a,
       p.until - (p.days + 200) * interval '1 day',
       p.until - (p.days + 200) * interval '1 day'
FROM seed_params p, generate_series(1, p.accounts) AS a, generate_series(1, p.teams_per_account) AS k;

-- ---------------------------------------------------------------- inboxes: mostly WhatsApp, in São Paulo time
INSERT INTO inboxes (id, channel_id, account_id, name, channel_type, enable_auto_assignment, greeting_enabled,
                     greeting_message, timezone, business_name, created_at, updated_at)
SELECT x.id, x.id, x.account_id,
       CASE x.channel_type
           WHEN 'Channel::Whatsapp' THEN 'WhatsApp ' || (ARRAY['Comercial', 'Atendimento', 'Vendas', 'Pós-venda'])[1 + (x.j - 1) % 4]
           WHEN 'Channel::Api' THEN 'API Integração CRM'
           ELSE 'Chat do site'
       END,
       x.channel_type, true, x.channel_type = 'Channel::WebWidget',
       CASE WHEN x.channel_type = 'Channel::WebWidget' THEN 'Olá! Como podemos ajudar?' END,
       CASE WHEN r_tz < 0.85 THEN 'America/Sao_Paulo'
            WHEN r_tz < 0.93 THEN 'America/Manaus'
            ELSE 'UTC' END,                               -- Chatwoot's default when nobody set it
       a.name,
       a.created_at + x.j * interval '1 day', a.updated_at
FROM (
    SELECT (acc - 1) * p.inboxes_per_account + j AS id, acc AS account_id, j,
           -- every account's first inbox is WhatsApp; later ones rotate so that even a small
           -- source has an API and a web-chat inbox somewhere
           CASE WHEN j = 1 THEN 'Channel::Whatsapp'
                WHEN (acc + j) % 4 = 0 THEN 'Channel::Api'
                WHEN (acc + j) % 4 = 1 THEN 'Channel::WebWidget'
                ELSE 'Channel::Whatsapp' END AS channel_type,
           pg_temp.seed_rand(p.seed, 6, (acc - 1) * p.inboxes_per_account + j) AS r_tz
    FROM seed_params p, generate_series(1, p.accounts) AS acc, generate_series(1, p.inboxes_per_account) AS j
) x
JOIN accounts a ON a.id = x.account_id;

-- ---------------------------------------------------------------- contacts, each with a home inbox
-- About 3 contacts for every 4 conversations: some contacts come back, some never write.
DROP TABLE IF EXISTS pg_temp.seed_contact;
CREATE TEMP TABLE seed_contact ON COMMIT DROP AS
SELECT k AS id,
       1 + (k - 1) % p.accounts AS account_id,
       ((k - 1) % p.accounts) * p.inboxes_per_account + 1
           + floor(pg_temp.seed_rand(p.seed, 10, k) * p.inboxes_per_account)::integer AS inbox_id,
       pg_temp.seed_pick(ARRAY['Ana', 'Antônio', 'Beatriz', 'Carlos', 'Daniela', 'Eduardo', 'Fernanda', 'Francisco',
                               'Gabriel', 'Helena', 'Igor', 'Jéssica', 'José', 'Larissa', 'Leandro', 'Maria',
                               'Matheus', 'Paula', 'Pedro', 'Priscila', 'Roberto', 'Sônia', 'Tatiane', 'Vinícius',
                               'Camila', 'Rodrigo', 'Aparecida', 'Luiz', 'Márcia', 'Raimundo'],
                         pg_temp.seed_rand(p.seed, 11, k)) AS first_name,
       pg_temp.seed_pick(ARRAY['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira',
                               'Lima', 'Gomes', 'Costa', 'Ribeiro', 'Martins', 'Carvalho', 'Araújo', 'Melo',
                               'Barbosa', 'Cardoso', 'Rocha', 'Dias', 'Nascimento', 'Conceição', 'Gonçalves'],
                         pg_temp.seed_rand(p.seed, 12, k)) AS last_name,
       -- +55 DDD 9xxxx-xxxx; (k * 48271) mod a prime is injective, so numbers never collide
       '+55' || pg_temp.seed_pick(ARRAY['11', '21', '31', '41', '51', '61', '71', '81', '85', '27', '48', '62', '19', '92'],
                                  pg_temp.seed_rand(p.seed, 13, k))
             || '9' || lpad(((k::bigint * 48271 + p.seed) % 99999989)::text, 8, '0') AS phone,
       pg_temp.seed_rand(p.seed, 14, k) AS r_email,
       pg_temp.seed_rand(p.seed, 15, k) AS r_type,
       pg_temp.seed_rand(p.seed, 16, k) AS r_name
FROM seed_params p,
     generate_series(1, greatest(p.accounts, ceil(p.conversations * 0.75)::integer)) AS k;

-- ---------------------------------------------------------------- conversations (planned in a temp table)
-- Each conversation is planned in full here (message count, who answers, timing) so that
-- conversation columns that summarise messages (first reply, last activity, updated_at) are
-- computed from the same formulas the messages below use, without a second pass.
DROP TABLE IF EXISTS pg_temp.seed_conv;
CREATE TEMP TABLE seed_conv ON COMMIT DROP AS
WITH drawn AS (
    SELECT k,
           1 + floor(pg_temp.seed_rand(p.seed, 20, k) * (SELECT count(*) FROM seed_contact))::integer AS contact_id,
           -- created: a day in the window, mostly in business hours São Paulo time (UTC-3)
           date_trunc('day', p.until)
             - (2 + floor(pg_temp.seed_rand(p.seed, 21, k) * greatest(p.days - 1, 1)))::integer * interval '1 day'
             + CASE WHEN pg_temp.seed_rand(p.seed, 22, k) < 0.85
                    THEN interval '8 hours' + pg_temp.seed_rand(p.seed, 23, k) * interval '12 hours'
                    ELSE pg_temp.seed_rand(p.seed, 23, k) * interval '24 hours' END
             + interval '3 hours' AS created_at,
           -- message count: exponential around the requested mean (short ones, and some > 20)
           greatest(1, least(p.mpc * 6,
                round(-ln(1.0 - pg_temp.seed_rand(p.seed, 24, k)) * p.mpc)::integer)) AS n,
           pg_temp.seed_rand(p.seed, 25, k) AS r_bot,
           pg_temp.seed_rand(p.seed, 26, k) AS r_assignee,
           pg_temp.seed_rand(p.seed, 27, k) AS r_team,
           pg_temp.seed_rand(p.seed, 28, k) AS r_status,
           pg_temp.seed_rand(p.seed, 29, k) AS r_priority,
           pg_temp.seed_scenario(pg_temp.seed_rand(p.seed, 30, k)) AS scenario,
           15 + pg_temp.seed_rand(p.seed, 31, k) ^ 3 * 3600 AS slot_raw,    -- seconds between turns
           pg_temp.seed_rand(p.seed, 32, k) AS r_csat,
           pg_temp.seed_rand(p.seed, 33, k) AS r_batch,
           pg_temp.seed_rand(p.seed, 34, k) AS r_misc,
           pg_temp.seed_rand(p.seed, 35, k) AS r_seen
    FROM seed_params p, generate_series(1, p.conversations) AS k
), shaped AS (
    SELECT d.*, sc.account_id, sc.inbox_id, i.channel_type,
           sc.first_name AS contact_first_name,
           row_number() OVER (ORDER BY d.created_at, d.k)::integer AS id,
           row_number() OVER (PARTITION BY sc.account_id ORDER BY d.created_at, d.k)::integer AS display_id,
           -- bots answer WhatsApp and the web chat; 1 in 10 bots is Captain (Chatwoot's AI assistant)
           CASE WHEN i.channel_type <> 'Channel::Api' AND d.r_bot < 0.7
                THEN CASE WHEN d.r_bot < 0.07 THEN 'Captain::Assistant' ELSE 'AgentBot' END END AS bot_type,
           CASE WHEN d.r_assignee < 0.8
                THEN (sc.account_id - 1) * p.users_per_account + 1
                     + floor(d.r_assignee / 0.8 * p.users_per_account)::integer END AS assignee_id,
           CASE WHEN d.r_team < 0.6
                THEN (sc.account_id - 1) * p.teams_per_account + 1
                     + floor(d.r_team / 0.6 * p.teams_per_account)::integer END AS team_id,
           -- statuses 0-3 plus a few 4: a value Chatwoot does not have but production shows
           CASE WHEN d.r_status < 0.004 THEN 4
                WHEN d.r_status < 0.70 THEN 1
                WHEN d.r_status < 0.85 THEN 0
                WHEN d.r_status < 0.93 THEN 2
                ELSE 3 END AS status,
           CASE WHEN d.r_priority < 0.7 THEN NULL
                ELSE floor((d.r_priority - 0.7) / 0.3 * 4)::integer END AS priority,
           -- keep every message before `until`, with an hour of margin for updated_at
           greatest(1.0, least(d.slot_raw,
               (extract(epoch FROM p.until - d.created_at)::double precision - 3600) / (d.n + 1))) AS slot
    FROM drawn d
    CROSS JOIN seed_params p
    JOIN seed_contact sc ON sc.id = d.contact_id
    JOIN inboxes i ON i.id = sc.inbox_id
)
SELECT s.*,
       -- message ids are allocated conversation by conversation
       (sum(s.n) OVER (ORDER BY s.id) - s.n)::integer AS msg_base,
       -- the handover: position of the "assigned" activity (after the bot's menu if any)
       CASE WHEN s.bot_type IS NOT NULL THEN 4 ELSE 2 END AS h,
       u.name AS agent_name,
       a.name AS account_name
FROM shaped s
LEFT JOIN users u ON u.id = s.assignee_id
JOIN accounts a ON a.id = s.account_id;

-- Message p of a conversation is sent at created_at + (p-1) slots + jitter inside the slot,
-- so times increase strictly with p. A bot's greeting comes seconds after the first message.
CREATE OR REPLACE FUNCTION pg_temp.seed_msg_at(created timestamp, p integer, slot double precision,
                                               jitter double precision, is_bot_greeting boolean)
RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN p = 1 THEN created
        WHEN is_bot_greeting THEN created + (1 + jitter * 0.5 * least(slot, 10)) * interval '1 second'
        ELSE created + ((p - 1) * slot + jitter * 0.8 * slot) * interval '1 second'
    END
$$;

-- Conversation-level timestamps derived from the plan.
DROP TABLE IF EXISTS pg_temp.seed_conv_times;
CREATE TEMP TABLE seed_conv_times ON COMMIT DROP AS
SELECT c.id,
       pg_temp.seed_msg_at(c.created_at, c.n, c.slot, pg_temp.seed_rand(p.seed, 40, c.msg_base + c.n),
                           c.bot_type IS NOT NULL AND c.n = 2) AS last_at,
       -- first human reply: the agent's first message right after the handover
       CASE WHEN c.assignee_id IS NOT NULL AND (c.h + 1 < c.n OR (c.h + 1 = c.n AND c.status <> 1))
            THEN pg_temp.seed_msg_at(c.created_at, c.h + 1, c.slot,
                                     pg_temp.seed_rand(p.seed, 40, c.msg_base + c.h + 1), false) END AS first_reply_at
FROM seed_conv c, seed_params p;

-- updated_at: after the last message and its delivery-status updates (< 30 s, see messages),
-- plus bulk batches: a share of conversations got a label in bulk (a campaign tag applied to
-- hundreds at once), which sets ONE identical updated_at on all of them -- the ties a
-- watermark must not skip. Batches hold ~250 conversations; about 4% of a large source.
DROP TABLE IF EXISTS pg_temp.seed_conv_updated;
CREATE TEMP TABLE seed_conv_updated ON COMMIT DROP AS
WITH sizing AS (
    SELECT greatest(1, round(p.conversations * 0.04 / 250.0))::integer AS batches,
           least(0.5, greatest(1, round(p.conversations * 0.04 / 250.0)) * 250.0 / p.conversations) AS share
    FROM seed_params p
), natural_ AS (
    SELECT c.id,
           t.last_at + (60 + pg_temp.seed_rand(p.seed, 41, c.id) * 600) * interval '1 second' AS natural_at,
           CASE WHEN c.r_batch < z.share THEN floor(c.r_batch / z.share * z.batches)::integer END AS batch
    FROM seed_conv c JOIN seed_conv_times t USING (id), seed_params p, sizing z
)
SELECT id, batch,
       CASE WHEN batch IS NULL THEN natural_at
            ELSE date_trunc('second', max(natural_at) OVER (PARTITION BY batch)) + interval '1 second' END AS updated_at
FROM natural_;

-- ---------------------------------------------------------------- contacts and their inboxes
INSERT INTO contacts (id, name, email, phone_number, account_id, identifier, contact_type, custom_attributes,
                      additional_attributes, blocked, created_at, updated_at, last_activity_at)
SELECT sc.id,
       -- WhatsApp contacts without a profile name show up under their number
       CASE WHEN i.channel_type = 'Channel::Whatsapp' AND sc.r_name < 0.12 THEN sc.phone
            ELSE sc.first_name || ' ' || sc.last_name END,
       -- mostly NULL, as in production; the web chat asks for an e-mail
       CASE WHEN (i.channel_type = 'Channel::WebWidget' AND sc.r_email < 0.5) OR sc.r_email < 0.06
            THEN translate(lower(sc.first_name || '.' || sc.last_name), 'áàâãéêíóôõúç', 'aaaaeeiooouc') || sc.id || '@'
                 || pg_temp.seed_pick(ARRAY['gmail.com', 'hotmail.com', 'outlook.com', 'yahoo.com.br', 'uol.com.br'], sc.r_type)
       END,
       CASE WHEN i.channel_type <> 'Channel::WebWidget' THEN sc.phone END,
       sc.account_id,
       CASE WHEN i.channel_type = 'Channel::Api' AND sc.r_email < 0.6 THEN 'crm-' || sc.id END,
       CASE WHEN sc.r_type < 0.4 THEN 0 WHEN sc.r_type < 0.8 THEN 1 ELSE 2 END,    -- visitor / lead / customer
       '{}'::jsonb,
       CASE WHEN sc.r_name < 0.5
            THEN jsonb_build_object('city', pg_temp.seed_pick(ARRAY['São Paulo', 'Rio de Janeiro', 'Belo Horizonte', 'Curitiba',
                                                                    'Porto Alegre', 'Brasília', 'Salvador', 'Recife',
                                                                    'Fortaleza', 'Goiânia', 'Florianópolis', 'Campinas'],
                                                              sc.r_name * 2),
                                    'country', 'Brasil')
            ELSE '{}'::jsonb END,
       sc.r_type > 0.995,
       COALESCE(f.first_created - sc.r_name * interval '1 hour', p.until - p.days * interval '1 day'),
       COALESCE(f.last_at, f.first_created - sc.r_name * interval '1 hour', p.until - p.days * interval '1 day'),
       f.last_at
FROM seed_contact sc
JOIN inboxes i ON i.id = sc.inbox_id
CROSS JOIN seed_params p
LEFT JOIN (
    SELECT c.contact_id, min(c.created_at) AS first_created, max(t.last_at) AS last_at
    FROM seed_conv c JOIN seed_conv_times t USING (id)
    GROUP BY c.contact_id
) f ON f.contact_id = sc.id
ORDER BY sc.id;

-- One contact_inbox per contact (its home inbox); source_id is the WhatsApp number, else a uuid.
INSERT INTO contact_inboxes (id, contact_id, inbox_id, source_id, hmac_verified, pubsub_token, created_at, updated_at)
SELECT ct.id, ct.id, sc.inbox_id,
       CASE WHEN i.channel_type = 'Channel::Whatsapp' THEN ltrim(sc.phone, '+')
            ELSE md5('source:' || p.seed || ':' || ct.id)::uuid::text END,
       false,
       md5('pubsub:' || p.seed || ':' || ct.id),
       ct.created_at, ct.created_at
FROM contacts ct
JOIN seed_contact sc ON sc.id = ct.id
JOIN inboxes i ON i.id = sc.inbox_id
CROSS JOIN seed_params p
ORDER BY ct.id;

INSERT INTO conversations (id, account_id, inbox_id, status, assignee_id, created_at, updated_at, contact_id, display_id,
                           contact_last_seen_at, agent_last_seen_at, additional_attributes, contact_inbox_id, uuid,
                           identifier, last_activity_at, team_id, campaign_id, snoozed_until, custom_attributes,
                           assignee_last_seen_at, first_reply_created_at, priority, waiting_since, cached_label_list)
SELECT c.id, c.account_id, c.inbox_id, c.status, c.assignee_id, c.created_at, u.updated_at, c.contact_id, c.display_id,
       -- "last seen" columns are written without moving updated_at, so they may be later than it
       CASE WHEN c.r_seen < 0.6 THEN least(p.until, t.last_at + c.r_seen * interval '2 hours') END,
       CASE WHEN c.assignee_id IS NOT NULL AND c.r_seen > 0.2 THEN least(p.until, t.last_at + c.r_seen * interval '6 hours') END,
       CASE WHEN c.channel_type = 'Channel::WebWidget'
            THEN jsonb_build_object('browser', jsonb_build_object('browser_name', 'Chrome', 'platform_name', 'Windows'),
                                    'referer', 'https://cliente' || c.account_id || '.com.br/planos',
                                    'initiated_at', jsonb_build_object('timestamp', c.created_at::text))
            ELSE '{}'::jsonb END,
       c.contact_id,                                  -- the contact's only contact_inbox has the contact's id
       md5('conversation:' || p.seed || ':' || c.k)::uuid,
       NULL,
       t.last_at,
       c.team_id,
       CASE WHEN c.r_misc < 0.02 THEN c.account_id * 100 + floor(c.r_misc * 250)::integer END,   -- mostly NULL
       CASE WHEN c.status = 3
            THEN date_trunc('day', t.last_at) + (1 + floor(c.r_misc * 7))::integer * interval '1 day' + interval '12 hours' END,
       '{}'::jsonb,
       CASE WHEN c.assignee_id IS NOT NULL AND c.r_seen > 0.2 THEN least(p.until, t.last_at + c.r_seen * interval '6 hours') END,
       t.first_reply_at,
       c.priority,
       -- waiting for a human: not answered yet and still open or pending
       CASE WHEN c.status IN (0, 2) AND t.first_reply_at IS NULL THEN c.created_at END,
       (ARRAY['orcamento', 'visita', 'sem_interesse', 'venda', 'suporte'])[c.scenario]
           || CASE WHEN u.batch IS NOT NULL THEN ',campanha_black_friday' ELSE '' END
FROM seed_conv c
JOIN seed_conv_times t USING (id)
JOIN seed_conv_updated u USING (id)
CROSS JOIN seed_params p
ORDER BY c.id;

-- ---------------------------------------------------------------- messages
-- Script per conversation: the contact opens; a bot (if any) greets with a menu and the contact
-- picks an option; an agent (if assigned) takes over, announced by an activity message, then agent
-- and contact alternate, with a few private notes; resolved conversations end with an activity.
INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, private, status, source_id,
                      content_type, sender_type, sender_id, created_at, updated_at)
SELECT m.mid,
       replace(replace(replace(pg_temp.seed_pick(l.texts, pg_temp.seed_rand(p.seed, 42, m.mid)),
                               '{account}', m.account_name),
                       '{agent}', COALESCE(m.agent_name, 'Sistema')),
               '{contact}', m.contact_first_name),
       m.account_id, m.inbox_id, m.id,
       m.message_type,
       m.kind = 'note',
       CASE WHEN m.message_type = 1 AND m.kind <> 'note'
            THEN CASE WHEN pg_temp.seed_rand(p.seed, 44, m.mid) < 0.7 THEN 2 ELSE 1 END   -- read / delivered
            ELSE 0 END,
       CASE WHEN m.channel_type = 'Channel::Whatsapp' AND m.message_type <> 2 AND m.kind <> 'note'
            THEN 'wamid.' || upper(to_hex(hashint8extended(m.mid, p.seed))) END,
       0,
       CASE WHEN m.message_type = 0 THEN 'Contact'
            WHEN m.kind IN ('agent_first', 'agent', 'note') THEN 'User'
            WHEN m.kind IN ('bot_greeting', 'bot') THEN m.bot_type
       END,
       CASE WHEN m.message_type = 0 THEN m.contact_id::bigint
            WHEN m.kind IN ('agent_first', 'agent', 'note') THEN m.assignee_id::bigint
            WHEN m.kind IN ('bot_greeting', 'bot') THEN m.account_id::bigint     -- one bot per account
       END,
       m.sent_at,
       -- delivery / read receipts update outgoing messages a few seconds later (never > 30 s)
       CASE WHEN m.message_type = 1 AND m.kind <> 'note'
            THEN m.sent_at + pg_temp.seed_rand(p.seed, 45, m.mid) * interval '25 seconds'
            ELSE m.sent_at END
FROM (
    SELECT pl.*,
           CASE WHEN pl.kind IN ('open', 'follow', 'close', 'choice') THEN 0
                WHEN pl.kind IN ('assigned', 'resolved', 'bot_resolved', 'auto_resolved') THEN 2
                ELSE 1 END AS message_type,
           CASE WHEN pl.kind IN ('open', 'follow', 'close', 'agent') THEN pl.scenario ELSE 0 END AS line_scenario,
           pg_temp.seed_msg_at(pl.created_at, pl.p, pl.slot, pg_temp.seed_rand(ps.seed, 40, pl.mid),
                               pl.bot_type IS NOT NULL AND pl.p = 2) AS sent_at
    FROM (
        SELECT c.*, g.p, c.msg_base + g.p AS mid,
               CASE
                   WHEN g.p = 1 THEN 'open'
                   WHEN g.p = c.n AND c.status = 1 THEN
                       CASE WHEN c.assignee_id IS NOT NULL THEN 'resolved'
                            WHEN c.bot_type IS NOT NULL THEN 'bot_resolved'
                            ELSE 'auto_resolved' END
                   WHEN c.bot_type IS NOT NULL AND g.p = 2 THEN 'bot_greeting'
                   WHEN c.bot_type IS NOT NULL AND g.p = 3 THEN 'choice'
                   WHEN c.assignee_id IS NOT NULL AND g.p = c.h THEN 'assigned'
                   WHEN c.assignee_id IS NOT NULL AND g.p = c.h + 1 THEN 'agent_first'
                   WHEN c.assignee_id IS NOT NULL AND g.p > c.h THEN
                       CASE WHEN (g.p - c.h) % 2 = 1
                            THEN CASE WHEN pg_temp.seed_rand(ps.seed, 43, c.msg_base + g.p) < 0.06 THEN 'note' ELSE 'agent' END
                            WHEN g.p >= c.n - 2 THEN 'close'
                            ELSE 'follow' END
                   WHEN c.bot_type IS NOT NULL AND g.p % 2 = 0 THEN 'bot'
                   WHEN g.p >= c.n - 2 THEN 'close'
                   ELSE 'follow'
               END AS kind
        FROM seed_conv c
        CROSS JOIN seed_params ps
        CROSS JOIN LATERAL generate_series(1, c.n) AS g(p)
    ) pl
    CROSS JOIN seed_params ps
) m
JOIN seed_book l ON l.kind = m.kind AND l.scenario = m.line_scenario AND l.vertical = pg_temp.seed_vertical(m.account_id)
CROSS JOIN seed_params p;

-- ---------------------------------------------------------------- CSAT
-- About 10% of conversations (resolved ones) have an answer; a few have two (the contact answered
-- the survey twice), which the view turns into two rows for one conversation.
INSERT INTO csat_survey_responses (id, account_id, conversation_id, message_id, rating, feedback_message, contact_id,
                                   assigned_agent_id, created_at, updated_at)
SELECT row_number() OVER (ORDER BY c.id, r.k),
       c.account_id, c.id,
       c.msg_base + c.n - r.k + 1,                    -- message_id is unique: one survey message each
       x.rating,
       CASE WHEN x.r_feedback < 0.4 THEN
           CASE WHEN x.rating >= 4 THEN pg_temp.seed_pick(ARRAY[
                    'Ótimo atendimento!', 'Muito rápido, obrigado', 'Atendente super educada e prestativa. Resolveu tudo em poucos minutos, recomendo!',
                    'Top 👏'], x.r_feedback / 0.4)
                WHEN x.rating = 3 THEN pg_temp.seed_pick(ARRAY[
                    'Razoável', 'Demorou um pouco, mas resolveram', 'Ok'], x.r_feedback / 0.4)
                ELSE pg_temp.seed_pick(ARRAY[
                    'Demorou muito para responder', 'Não resolveram meu problema',
                    'Fiquei mais de duas horas esperando e ninguém respondeu. Péssimo atendimento, não recomendo.'],
                    x.r_feedback / 0.4)
           END
       END,
       c.contact_id, c.assignee_id,
       t.last_at + (30 + 10 * r.k + x.r_feedback * 5) * interval '1 second',
       t.last_at + (30 + 10 * r.k + x.r_feedback * 5) * interval '1 second'
FROM seed_conv c
JOIN seed_conv_times t USING (id)
CROSS JOIN seed_params p
CROSS JOIN LATERAL generate_series(1, CASE WHEN c.r_csat < 0.007 AND c.n >= 2 THEN 2 ELSE 1 END) AS r(k)
CROSS JOIN LATERAL (
    SELECT CASE WHEN q < 0.55 THEN 5 WHEN q < 0.75 THEN 4 WHEN q < 0.85 THEN 3 WHEN q < 0.92 THEN 2 ELSE 1 END AS rating,
           pg_temp.seed_rand(p.seed, 47, c.id * 2 + r.k) AS r_feedback
    FROM (SELECT pg_temp.seed_rand(p.seed, 46, c.id * 2 + r.k) AS q) AS qq
) x
WHERE c.status = 1 AND c.r_csat < 0.14;

-- ---------------------------------------------------------------- conversations without messages
-- Production has them (created through the API or by a campaign and never answered, or emptied by
-- a retention job): about 1.5% of the open ones without a CSAT answer lose their messages, so the
-- view gives them NULL message_compiled, NULL counts and NULL message statistics.
DELETE FROM messages m
USING seed_conv c, seed_params p
WHERE m.conversation_id = c.id
  AND c.status = 0
  AND pg_temp.seed_rand(p.seed, 48, c.id) < 0.015
  AND NOT EXISTS (SELECT 1 FROM csat_survey_responses r WHERE r.conversation_id = c.id);

-- ---------------------------------------------------------------- housekeeping
-- Ids were given explicitly; move the serials past them so later inserts (add_activity, tests,
-- a real Chatwoot-style insert) get fresh ids.
SELECT setval(pg_get_serial_sequence(t, 'id'), COALESCE(m, 0) + 1, false)
FROM (VALUES ('accounts', (SELECT max(id) FROM accounts)),
             ('users', (SELECT max(id) FROM users)),
             ('account_users', (SELECT max(id) FROM account_users)),
             ('teams', (SELECT max(id) FROM teams)),
             ('inboxes', (SELECT max(id) FROM inboxes)),
             ('contacts', (SELECT max(id) FROM contacts)),
             ('contact_inboxes', (SELECT max(id) FROM contact_inboxes)),
             ('conversations', (SELECT max(id) FROM conversations)),
             ('messages', (SELECT max(id) FROM messages)),
             ('csat_survey_responses', (SELECT max(id) FROM csat_survey_responses))) AS s(t, m);

-- Fresh statistics, so the view's plans (and the foreign-key checks below) are sane right away.
ANALYZE accounts, users, account_users, teams, inboxes, contacts, contact_inboxes, conversations, messages,
        csat_survey_responses;

-- Put back the indexes and foreign keys dropped for the bulk load (see the top of this file).
DO $$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT * FROM seed_deferred_ddl WHERE kind = 'index' ORDER BY rel, name LOOP
        EXECUTE d.ddl;
    END LOOP;
    FOR d IN SELECT * FROM seed_deferred_ddl WHERE kind = 'foreign_key' ORDER BY rel, name LOOP
        EXECUTE d.ddl;
    END LOOP;
END
$$;
