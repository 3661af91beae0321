-- vw_conversations_analytics_final, INDEXABLE variant: the same columns, types and values as
-- 02_view.sql (the deployed definition, quirks included), with one structural change: the two
-- per-conversation message aggregates are LATERAL subqueries correlated on the conversation
-- (WHERE m.conversation_id = c.id ... GROUP BY m.conversation_id) instead of GROUP BY subqueries
-- over the whole messages table. A caller's predicate on the conversation
-- (conversation_updated_at > $1 AND inbox_id = ANY($2)) then filters conversations first, through
-- index_conversations_on_updated_at, and only the selected conversations' messages are read,
-- through index_messages_on_conversation_id: an incremental window costs what it contains
-- instead of an aggregation of every message.
--
-- Why the values are identical:
--   * GROUP BY m.conversation_id inside the LATERAL subquery yields no row for a conversation
--     without messages, so the LEFT JOIN NULL-extends exactly as the deployed join does
--     (count() does not turn into 0, jsonb_agg stays NULL and is COALESCEd to '[]' the same way);
--   * each aggregate runs over the same set of messages with the same ORDER BY, so jsonb_agg,
--     array_agg(...)[1], min/max/avg/count give the same results;
--   * the CSAT join is unchanged: two answers still give two rows (the deployed quirk).
-- tests/integration/test_view_definitions.py compares both definitions row for row.
--
-- This is the definition recommended to the team that owns the source. Locally:
--   seed.apply_schema(conn, view="indexable")   (or CHATWOOT_ETL_SOURCE_VIEW=indexable)
DROP VIEW IF EXISTS vw_conversations_analytics_final;

CREATE VIEW vw_conversations_analytics_final AS
SELECT
    -- identity
    c.id::integer                                   AS conversation_id,
    c.display_id::integer                           AS display_id,
    c.uuid                                          AS conversation_uuid,
    c.account_id::integer                           AS account_id,
    c.inbox_id::integer                             AS inbox_id,
    c.contact_id::bigint                            AS contact_id,
    c.assignee_id::integer                          AS assignee_id,
    c.team_id::bigint                               AS team_id,
    c.campaign_id::bigint                           AS campaign_id,
    -- state
    c.status::integer                               AS status,
    (CASE c.status
        WHEN 0 THEN 'Aberta'
        WHEN 1 THEN 'Resolvida'
        WHEN 2 THEN 'Pendente'
        WHEN 3 THEN 'Adiada'
        WHEN 4 THEN 'Fechada'                       -- not a Chatwoot status; the deployed view has it
        ELSE 'Desconhecido'
    END)::text                                      AS status_label_pt,
    c.priority::integer                             AS priority,
    (CASE c.priority
        WHEN 0 THEN 'Baixa'
        WHEN 1 THEN 'Média'
        WHEN 2 THEN 'Alta'
        WHEN 3 THEN 'Urgente'
        ELSE 'Sem prioridade'
    END)::text                                      AS priority_label,
    (CASE WHEN c.priority IS NULL THEN 0 ELSE c.priority + 1 END)::integer AS priority_score,
    c.snoozed_until::timestamp                      AS snoozed_until,
    -- names
    a.name::text                                    AS account_name,
    i.name::text                                    AS inbox_name,
    i.channel_type::text                            AS inbox_channel_type,
    i.timezone::text                                AS inbox_timezone,
    ct.name::text                                   AS contact_name,
    ct.email::text                                  AS contact_email,
    ct.phone_number::text                           AS contact_phone,
    ct.identifier::text                             AS contact_identifier,
    u.name::text                                    AS assignee_name,
    u.email::text                                   AS assignee_email,
    t.name::text                                    AS team_name,
    -- timestamps (naive UTC, as stored)
    c.created_at::timestamp                         AS conversation_created_at,
    c.updated_at::timestamp                         AS conversation_updated_at,
    c.last_activity_at::timestamp                   AS last_activity_at,
    c.first_reply_created_at::timestamp             AS first_reply_created_at,
    c.waiting_since::timestamp                      AS waiting_since,
    c.contact_last_seen_at::timestamp               AS contact_last_seen_at,
    c.agent_last_seen_at::timestamp                 AS agent_last_seen_at,
    -- messages
    COALESCE(mc.message_compiled, '[]'::jsonb)      AS message_compiled,
    ct.id::bigint                                   AS client_sender_id,
    ct.phone_number::text                           AS client_phone,
    COALESCE(mc.t_messages, 0)::bigint              AS t_messages,
    COALESCE(ms.public_count, 0)::bigint            AS total_messages_public,
    COALESCE(mc.private_count, 0)::bigint           AS total_messages_private,
    mc.first_at::timestamp                          AS mc_first_message_at,
    mc.last_at::timestamp                           AS mc_last_message_at,
    -- CSAT (one row per response: the duplicate-row quirk)
    cs.id::bigint                                   AS csat_response_id,
    cs.rating::integer                              AS csat_rating,
    cs.feedback_message::text                       AS csat_feedback,
    cs.created_at::timestamp                        AS csat_created_at,
    (CASE
        WHEN cs.rating IS NULL THEN NULL
        WHEN cs.rating >= 5 THEN 'promoter'
        WHEN cs.rating = 4 THEN 'passive'
        ELSE 'detractor'
    END)::text                                      AS csat_nps_category,
    (CASE
        WHEN cs.rating IS NULL THEN NULL
        WHEN cs.rating >= 4 THEN 'positive'
        WHEN cs.rating = 3 THEN 'neutral'
        ELSE 'negative'
    END)::text                                      AS csat_sentiment_category,
    (COALESCE(btrim(cs.feedback_message), '') <> '')::boolean AS has_written_feedback,
    (COALESCE(length(btrim(cs.feedback_message)), 0) >= 50)::boolean AS has_detailed_feedback,
    (cs.id IS NOT NULL)::boolean                    AS has_csat,
    -- metrics
    (extract(epoch FROM c.first_reply_created_at - c.created_at))::integer AS first_response_time_seconds,
    round((extract(epoch FROM c.first_reply_created_at - c.created_at) / 60.0)::numeric, 2) AS first_response_time_minutes,
    (CASE WHEN c.status = 1 THEN extract(epoch FROM c.updated_at - c.created_at) END)::integer AS resolution_time_seconds,
    (c.assignee_id IS NOT NULL)::boolean            AS is_assigned,
    (c.team_id IS NOT NULL)::boolean                AS has_team,
    (c.status = 1)::boolean                         AS is_resolved,
    (c.status = 0)::boolean                         AS is_open,
    (c.status = 2)::boolean                         AS is_pending,
    (c.status = 3)::boolean                         AS is_snoozed,
    (c.contact_id IS NOT NULL)::boolean             AS has_contact,
    (c.waiting_since IS NOT NULL)::boolean          AS is_waiting,
    (c.priority IS NOT NULL)::boolean               AS has_priority,
    (COALESCE(c.priority, -1) >= 2)::boolean        AS is_high_priority,
    (c.campaign_id IS NOT NULL)::boolean            AS is_from_campaign,
    COALESCE(c.first_reply_created_at - c.created_at < interval '5 minutes', false) AS is_fast_response,
    COALESCE(c.first_reply_created_at - c.created_at > interval '30 minutes', false) AS is_slow_response,
    COALESCE(c.status = 1 AND c.updated_at - c.created_at < interval '2 hours', false) AS is_fast_resolution,
    COALESCE(c.waiting_since < (now() AT TIME ZONE 'UTC') - interval '1 hour', false) AS is_waiting_long,
    (c.contact_last_seen_at IS NOT NULL)::boolean   AS contact_has_seen,
    (c.agent_last_seen_at IS NOT NULL)::boolean     AS agent_has_seen,
    -- message statistics (public messages: not private, not activity)
    COALESCE(ms.user_count, 0)::bigint              AS user_messages_count,
    COALESCE(ms.contact_count, 0)::bigint           AS contact_messages_count,
    COALESCE(mc.private_count, 0)::bigint           AS private_notes_count,
    ms.first_text::text                             AS first_message_text,
    ms.last_text::text                              AS last_message_text,
    ms.first_sender_type::text                      AS first_message_sender_type,
    ms.last_sender_type::text                       AS last_message_sender_type,
    (extract(epoch FROM ms.last_at - ms.first_at))::integer AS conversation_duration_seconds,
    (CASE WHEN ms.public_count > 1
        THEN round((extract(epoch FROM ms.last_at - ms.first_at) / (ms.public_count - 1))::numeric, 2)
    END)::numeric                                   AS avg_time_between_messages_seconds,
    round(ms.avg_length)::integer                   AS avg_message_length,
    ms.max_length::integer                          AS max_message_length,
    (COALESCE(ms.user_count, 0) > 0)::boolean       AS has_user_messages,
    (COALESCE(ms.contact_count, 0) > 0)::boolean    AS has_contact_messages,
    (COALESCE(mc.private_count, 0) > 0)::boolean    AS has_private_notes,
    COALESCE(ms.last_contact_at > ms.first_outgoing_at, false) AS has_contact_reply,
    (COALESCE(ms.public_count, 0) <= 5)::boolean    AS is_short_conversation,
    (COALESCE(ms.public_count, 0) > 20)::boolean    AS is_long_conversation,
    (CASE WHEN ms.public_count > 0 THEN round(ms.user_count::numeric / ms.public_count, 2) END)::numeric AS user_message_ratio,
    (CASE WHEN ms.public_count > 0 THEN round(ms.contact_count::numeric / ms.public_count, 2) END)::numeric AS contact_message_ratio,
    (COALESCE(mc.any_user_count, 0) > 0)::boolean   AS has_human_intervention,
    (c.status = 1 AND COALESCE(mc.any_user_count, 0) = 0)::boolean AS is_bot_resolved,
    -- calendar, in UTC (the deployed defect)
    c.created_at::date                              AS conversation_date,
    extract(year FROM c.created_at)::integer        AS conversation_year,
    extract(month FROM c.created_at)::integer       AS conversation_month,
    extract(day FROM c.created_at)::integer         AS conversation_day,
    extract(dow FROM c.created_at)::integer         AS conversation_day_of_week,   -- Sunday = 0
    extract(hour FROM c.created_at)::integer        AS conversation_hour,
    extract(minute FROM c.created_at)::integer      AS conversation_minute,
    extract(week FROM c.created_at)::integer        AS conversation_week_of_year,
    extract(quarter FROM c.created_at)::integer     AS conversation_quarter,
    (CASE extract(dow FROM c.created_at)::integer
        WHEN 0 THEN 'Domingo' WHEN 1 THEN 'Segunda-feira' WHEN 2 THEN 'Terça-feira'
        WHEN 3 THEN 'Quarta-feira' WHEN 4 THEN 'Quinta-feira' WHEN 5 THEN 'Sexta-feira'
        ELSE 'Sábado'
    END)::text                                      AS conversation_day_name,
    ((ARRAY['Janeiro', 'Fevereiro', 'Março', 'Abril', 'Maio', 'Junho', 'Julho', 'Agosto',
            'Setembro', 'Outubro', 'Novembro', 'Dezembro'])[extract(month FROM c.created_at)::integer])::text
                                                    AS conversation_month_name,
    (CASE
        WHEN extract(hour FROM c.created_at) < 6 THEN 'Madrugada'
        WHEN extract(hour FROM c.created_at) < 12 THEN 'Manhã'
        WHEN extract(hour FROM c.created_at) < 18 THEN 'Tarde'
        ELSE 'Noite'
    END)::text                                      AS conversation_period,
    (extract(dow FROM c.created_at) BETWEEN 1 AND 5)::boolean AS is_weekday,
    (extract(dow FROM c.created_at) IN (0, 6))::boolean       AS is_weekend,
    (extract(dow FROM c.created_at) BETWEEN 1 AND 5
        AND extract(hour FROM c.created_at) BETWEEN 8 AND 17)::boolean AS is_business_hours,
    (extract(hour FROM c.created_at) >= 22 OR extract(hour FROM c.created_at) < 6)::boolean AS is_night_time,
    -- relative to now (UTC)
    ((now() AT TIME ZONE 'UTC')::date - c.created_at::date)::integer AS days_since_creation,
    (c.created_at::date = (now() AT TIME ZONE 'UTC')::date)::boolean AS is_today,
    (c.created_at::date = (now() AT TIME ZONE 'UTC')::date - 1)::boolean AS is_yesterday,
    (date_trunc('week', c.created_at) = date_trunc('week', now() AT TIME ZONE 'UTC'))::boolean AS is_this_week,
    (date_trunc('month', c.created_at) = date_trunc('month', now() AT TIME ZONE 'UTC'))::boolean AS is_this_month,
    (date_trunc('year', c.created_at) = date_trunc('year', now() AT TIME ZONE 'UTC'))::boolean AS is_this_year,
    to_char(c.created_at, 'DD/MM/YYYY')::text       AS conversation_date_formatted,
    to_char(c.created_at, 'DD/MM/YYYY HH24:MI')::text AS conversation_datetime_formatted,
    to_char(c.created_at, 'YYYY-MM')::text          AS conversation_year_month,
    to_char(c.created_at, 'IYYY-"W"IW')::text       AS conversation_year_week,
    (extract(epoch FROM (now() AT TIME ZONE 'UTC') - c.waiting_since))::integer AS waiting_time_seconds
FROM conversations c
LEFT JOIN contacts ct ON ct.id = c.contact_id
LEFT JOIN inboxes i ON i.id = c.inbox_id
LEFT JOIN users u ON u.id = c.assignee_id
LEFT JOIN teams t ON t.id = c.team_id
LEFT JOIN accounts a ON a.id = c.account_id
-- every message of the conversation (activity and private notes included)
LEFT JOIN LATERAL (
    SELECT
        jsonb_agg(
            jsonb_build_object(
                'message_id', m.id,
                'text', m.content,
                'sender', m.sender_type,
                'sender_id', m.sender_id,
                'sent_at', to_jsonb(m.created_at),        -- ISO 8601 text whatever DateStyle is
                'message_type', m.message_type,
                'private', m.private
            )
            ORDER BY m.created_at, m.id
        )                                                   AS message_compiled,
        count(*)                                            AS t_messages,
        count(*) FILTER (WHERE m.private)                   AS private_count,
        count(*) FILTER (WHERE m.sender_type = 'User')      AS any_user_count,
        min(m.created_at)                                   AS first_at,
        max(m.created_at)                                   AS last_at
    FROM messages m
    WHERE m.conversation_id = c.id
    GROUP BY m.conversation_id                              -- no row without messages, as deployed
) mc ON true
-- public messages only: what the contact and the agents actually said to each other
LEFT JOIN LATERAL (
    SELECT
        count(*)                                            AS public_count,
        count(*) FILTER (WHERE m.sender_type = 'User')      AS user_count,
        count(*) FILTER (WHERE m.sender_type = 'Contact')   AS contact_count,
        (array_agg(m.content ORDER BY m.created_at, m.id))[1]           AS first_text,
        (array_agg(m.content ORDER BY m.created_at DESC, m.id DESC))[1] AS last_text,
        (array_agg(m.sender_type ORDER BY m.created_at, m.id))[1]       AS first_sender_type,
        (array_agg(m.sender_type ORDER BY m.created_at DESC, m.id DESC))[1] AS last_sender_type,
        min(m.created_at)                                   AS first_at,
        max(m.created_at)                                   AS last_at,
        max(m.created_at) FILTER (WHERE m.message_type = 0) AS last_contact_at,
        min(m.created_at) FILTER (WHERE m.message_type IN (1, 3)) AS first_outgoing_at,
        avg(length(m.content))                              AS avg_length,
        max(length(m.content))                              AS max_length
    FROM messages m
    WHERE m.conversation_id = c.id AND NOT m.private AND m.message_type <> 2
    GROUP BY m.conversation_id
) ms ON true
-- not aggregated: two answers give two rows (the deployed quirk)
LEFT JOIN csat_survey_responses cs ON cs.conversation_id = c.id;
