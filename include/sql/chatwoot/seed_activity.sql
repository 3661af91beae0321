-- Add activity to an existing source, the way Chatwoot would between two ETL runs:
-- new messages on a fraction of the conversations (contact writes again -> Chatwoot reopens a
-- resolved/snoozed conversation; an agent replies; an agent resolves), and brand-new conversations.
-- Every conversation touched gets updated_at = `at`, as Rails' touch does; `at` is the source's
-- clock (naive UTC), passed by the caller, so tests can place it exactly.
-- Run by chatwoot_etl.seed.add_activity() after seed_common.sql, in one transaction; the
-- choices are hashes of (seed, conversation id), so the same seed touches the same conversations.
DROP TABLE IF EXISTS pg_temp.act_params;
CREATE TEMP TABLE act_params ON COMMIT DROP AS
SELECT %(seed)s::bigint                      AS seed,
       %(touch_fraction)s::double precision  AS touch_fraction,
       %(new_conversations)s::integer        AS new_conversations,
       COALESCE(%(at)s::timestamp, (now() AT TIME ZONE 'UTC')::timestamp) AS at;
-- @end-parameters

-- ---------------------------------------------------------------- which conversations move, and how
DROP TABLE IF EXISTS pg_temp.act_touch;
CREATE TEMP TABLE act_touch ON COMMIT DROP AS
SELECT c.id, c.account_id, c.inbox_id, c.contact_id, c.assignee_id, c.status,
       x.action,
       CASE WHEN x.action = 'contact_writes' THEN 1 + floor(pg_temp.seed_rand(p.seed, 102, c.id) * 2)::integer
            ELSE 1 END AS n_new,
       CASE x.action
           WHEN 'contact_writes' THEN CASE WHEN c.status IN (1, 3, 4) THEN 0 ELSE c.status END
           WHEN 'agent_replies' THEN c.status
           ELSE 1
       END AS new_status,
       pg_temp.seed_scenario(pg_temp.seed_rand(p.seed, 103, c.id)) AS scenario
FROM conversations c
CROSS JOIN act_params p
CROSS JOIN LATERAL (
    SELECT CASE
               WHEN r < 0.6 THEN 'contact_writes'
               WHEN r < 0.85 AND c.assignee_id IS NOT NULL THEN 'agent_replies'   -- only assigned ones
               WHEN r >= 0.85 AND c.status <> 1 THEN 'resolve'
               ELSE 'contact_writes'
           END AS action
    FROM (SELECT pg_temp.seed_rand(p.seed, 101, c.id) AS r) AS rr
) x
WHERE pg_temp.seed_rand(p.seed, 100, c.id) < p.touch_fraction;

-- ---------------------------------------------------------------- new conversations from existing contacts
DROP TABLE IF EXISTS pg_temp.act_new;
CREATE TEMP TABLE act_new ON COMMIT DROP AS
WITH picked AS (
    SELECT k,
           1 + floor(pg_temp.seed_rand(p.seed, 110, k) * (SELECT count(*) FROM contacts))::bigint AS contact_rank,
           pg_temp.seed_rand(p.seed, 111, k) AS r_bot,
           pg_temp.seed_scenario(pg_temp.seed_rand(p.seed, 112, k)) AS scenario
    FROM act_params p, generate_series(1, p.new_conversations) AS k
), ranked_contacts AS (
    SELECT ct.id, ct.account_id, row_number() OVER (ORDER BY ct.id) AS contact_rank
    FROM contacts ct
), placed AS (
    SELECT (SELECT COALESCE(max(id), 0) FROM conversations) + pk.k AS id,
           pk.k, pk.scenario,
           rc.account_id, ci.inbox_id::integer AS inbox_id, rc.id AS contact_id, ci.id AS contact_inbox_id,
           CASE WHEN i.channel_type <> 'Channel::Api' AND pk.r_bot < 0.6 THEN 2 ELSE 1 END AS n_new
    FROM picked pk
    JOIN ranked_contacts rc ON rc.contact_rank = pk.contact_rank
    JOIN LATERAL (SELECT x.id, x.inbox_id FROM contact_inboxes x WHERE x.contact_id = rc.id ORDER BY x.id LIMIT 1) ci ON true
    JOIN inboxes i ON i.id = ci.inbox_id
)
SELECT pl.*,
       -- display_id continues the account's own numbering
       (SELECT COALESCE(max(c.display_id), 0) FROM conversations c WHERE c.account_id = pl.account_id)
           + row_number() OVER (PARTITION BY pl.account_id ORDER BY pl.id) AS display_id
FROM placed pl;

-- ---------------------------------------------------------------- the new messages
-- Sent in the seconds before `at`, the last one at `at` itself.
DROP TABLE IF EXISTS pg_temp.act_messages;
CREATE TEMP TABLE act_messages ON COMMIT DROP AS
WITH planned AS (
    SELECT t.id AS conversation_id, t.account_id, t.inbox_id, t.contact_id, t.assignee_id, t.n_new, t.scenario, g.j,
           CASE t.action
               WHEN 'contact_writes' THEN 'follow'
               WHEN 'agent_replies' THEN 'agent'
               ELSE CASE WHEN t.assignee_id IS NULL THEN 'auto_resolved' ELSE 'resolved' END
           END AS kind
    FROM act_touch t
    CROSS JOIN LATERAL generate_series(1, t.n_new) AS g(j)
    UNION ALL
    SELECT n.id, n.account_id, n.inbox_id, n.contact_id, NULL::integer, n.n_new, n.scenario, g.j,
           CASE WHEN g.j = 1 THEN 'open' ELSE 'bot_greeting' END
    FROM act_new n
    CROSS JOIN LATERAL generate_series(1, n.n_new) AS g(j)
), typed AS (
    SELECT pl.*,
           CASE WHEN pl.kind IN ('open', 'follow') THEN 0
                WHEN pl.kind IN ('resolved', 'auto_resolved') THEN 2
                ELSE 1 END AS message_type,
           CASE WHEN pl.kind IN ('open', 'follow', 'agent') THEN pl.scenario ELSE 0 END AS line_scenario
    FROM planned pl
)
SELECT (SELECT COALESCE(max(id), 0) FROM messages) + row_number() OVER (ORDER BY ty.conversation_id, ty.j) AS id,
       ty.conversation_id, ty.account_id, ty.inbox_id, ty.j, ty.message_type,
       replace(replace(replace(pg_temp.seed_pick(l.texts, pg_temp.seed_rand(p.seed, 120, ty.conversation_id::bigint * 8 + ty.j)),
                               '{account}', a.name),
                       '{agent}', COALESCE(u.name, 'Sistema')),
               '{contact}', split_part(COALESCE(ct.name, ''), ' ', 1)) AS content,
       CASE WHEN ty.message_type = 0 THEN 'Contact'
            WHEN ty.kind = 'agent' THEN 'User'
            WHEN ty.kind = 'bot_greeting' THEN 'AgentBot' END AS sender_type,
       CASE WHEN ty.message_type = 0 THEN ty.contact_id
            WHEN ty.kind = 'agent' THEN ty.assignee_id::bigint
            WHEN ty.kind = 'bot_greeting' THEN ty.account_id::bigint END AS sender_id,
       p.at - (ty.n_new - ty.j) * interval '2 seconds' AS created_at
FROM typed ty
JOIN seed_book l ON l.kind = ty.kind AND l.scenario = ty.line_scenario AND l.vertical = pg_temp.seed_vertical(ty.account_id)
JOIN accounts a ON a.id = ty.account_id
LEFT JOIN users u ON u.id = ty.assignee_id
LEFT JOIN contacts ct ON ct.id = ty.contact_id
CROSS JOIN act_params p;

-- ---------------------------------------------------------------- write: conversations first (foreign keys)
INSERT INTO conversations (id, account_id, inbox_id, status, created_at, updated_at, contact_id, display_id,
                           contact_inbox_id, uuid, last_activity_at, waiting_since, additional_attributes,
                           custom_attributes)
SELECT n.id, n.account_id, n.inbox_id, 0,
       p.at - (n.n_new - 1) * interval '2 seconds',
       p.at,
       n.contact_id, n.display_id, n.contact_inbox_id,
       md5('activity-conversation:' || p.seed || ':' || n.id)::uuid,
       p.at,
       p.at - (n.n_new - 1) * interval '2 seconds',          -- waiting for a first human reply
       '{}'::jsonb, '{}'::jsonb
FROM act_new n CROSS JOIN act_params p
ORDER BY n.id;

INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, private, status, content_type,
                      sender_type, sender_id, created_at, updated_at)
SELECT m.id, m.content, m.account_id, m.inbox_id, m.conversation_id, m.message_type, false,
       CASE WHEN m.message_type = 1 THEN 1 ELSE 0 END, 0,
       m.sender_type, m.sender_id, m.created_at, m.created_at
FROM act_messages m
ORDER BY m.id;

-- Touch the existing conversations as Rails does: status, waiting and first-reply bookkeeping,
-- and updated_at = at.
UPDATE conversations c
SET status = t.new_status,
    updated_at = p.at,
    last_activity_at = p.at,
    snoozed_until = CASE WHEN t.new_status = 3 THEN c.snoozed_until END,
    waiting_since = CASE WHEN t.action = 'contact_writes'
                         THEN COALESCE(c.waiting_since, p.at - (t.n_new - 1) * interval '2 seconds') END,
    first_reply_created_at = CASE WHEN t.action = 'agent_replies' THEN COALESCE(c.first_reply_created_at, p.at)
                                  ELSE c.first_reply_created_at END
FROM act_touch t, act_params p
WHERE c.id = t.id;

SELECT setval(pg_get_serial_sequence(t, 'id'), COALESCE(m, 0) + 1, false)
FROM (VALUES ('conversations', (SELECT max(id) FROM conversations)),
             ('messages', (SELECT max(id) FROM messages))) AS s(t, m);
