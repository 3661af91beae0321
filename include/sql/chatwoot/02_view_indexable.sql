-- The INDEX-FRIENDLY definition of the deployed views: applied after 02_view.sql, it replaces
-- the final view's joins to the two whole-table message aggregates with the same aggregates
-- computed per conversation (LEFT JOIN LATERAL ... WHERE msg.conversation_id =
-- cb.conversation_id GROUP BY msg.conversation_id). Every column, type and value stays as
-- deployed (171 columns, the same select list), but a caller's predicate on the final view
-- (inbox_id = ANY(...), conversation_updated_at > ...) now selects conversations first, through
-- index_conversations_on_updated_at, and reads only their messages, through
-- index_messages_on_conversation_id: an incremental window costs what it contains instead of an
-- aggregation of every message. The per-conversation views (base, CSAT, metrics, calendar) are
-- the deployed ones.
--
-- Why the values are identical: the same messages are aggregated with the same expressions and
-- ORDER BYs, and GROUP BY inside the lateral subquery yields no row for a conversation without
-- messages, so the LEFT JOIN NULL-extends exactly as the deployed join does.
-- tests/integration/test_view_definitions.py compares both definitions row for row.
--
-- This is the definition recommended to the team that owns the source. Locally:
--   seed.apply_schema(conn, view="indexable")   (or CHATWOOT_ETL_SOURCE_VIEW=indexable)

CREATE OR REPLACE VIEW vw_conversations_analytics_final AS
SELECT
    cb.*,
    mc.message_compiled, mc.client_sender_id, mc.client_phone, mc.t_messages, mc.total_messages_public,
    mc.total_messages_private, mc.first_message_at AS mc_first_message_at, mc.last_message_at AS mc_last_message_at,
    cs.csat_response_id, cs.csat_rating, cs.csat_feedback, cs.csat_created_at, cs.csat_nps_category,
    cs.csat_sentiment_category, cs.has_written_feedback, cs.has_detailed_feedback,
    (cs.csat_response_id IS NOT NULL) AS has_csat,
    cm.first_response_time_seconds, cm.first_response_time_minutes, cm.resolution_time_seconds,
    cm.waiting_time_seconds, cm.is_assigned, cm.has_team, cm.is_resolved, cm.is_open, cm.is_pending,
    cm.is_snoozed, cm.has_contact, cm.is_waiting, cm.has_priority, cm.is_high_priority, cm.is_from_campaign,
    cm.is_fast_response, cm.is_slow_response, cm.is_fast_resolution, cm.is_waiting_long, cm.contact_has_seen,
    cm.agent_has_seen, cm.priority_score, cm.priority_label, cm.status_label_pt,
    ms.user_messages_count, ms.contact_messages_count, ms.system_messages_count, ms.private_notes_count,
    ms.first_message_text, ms.last_message_text, ms.first_message_sender_type, ms.last_message_sender_type,
    ms.conversation_duration_seconds, ms.avg_time_between_messages_seconds, ms.avg_sentiment_score,
    ms.messages_with_sentiment_count, ms.avg_message_length, ms.max_message_length, ms.has_user_messages,
    ms.has_contact_messages, ms.has_private_notes, ms.has_contact_reply, ms.is_short_conversation,
    ms.is_long_conversation, ms.user_message_ratio, ms.contact_message_ratio,
    (ms.user_messages_count > 0) AS has_human_intervention,
    (cm.is_resolved = true AND ms.user_messages_count = 0) AS is_bot_resolved,
    tm.conversation_date, tm.conversation_year, tm.conversation_month, tm.conversation_day,
    tm.conversation_day_of_week, tm.conversation_hour, tm.conversation_minute, tm.conversation_week_of_year,
    tm.conversation_quarter, tm.conversation_day_name, tm.conversation_day_abbr, tm.conversation_month_name,
    tm.conversation_month_abbr, tm.conversation_period, tm.conversation_period_detailed, tm.is_weekday,
    tm.is_weekend, tm.is_business_hours, tm.is_extended_hours, tm.is_night_time, tm.is_lunch_time,
    tm.is_start_of_month, tm.is_end_of_month, tm.days_since_creation, tm.is_today, tm.is_yesterday,
    tm.is_this_week, tm.is_this_month, tm.is_this_year, tm.conversation_date_formatted,
    tm.conversation_datetime_formatted, tm.conversation_year_month, tm.conversation_year_week
FROM vw_conversations_base_complete cb
LEFT JOIN LATERAL (
    SELECT
        jsonb_agg(jsonb_build_object(
            'message_id', msg.id, 'text', msg.content, 'sender', msg.sender_type, 'sender_id', msg.sender_id,
            'sent_at', msg.created_at, 'message_type', msg.message_type, 'content_type', msg.content_type,
            'status', msg.status, 'private', msg.private, 'sentiment', msg.sentiment, 'source_id', msg.source_id
        ) ORDER BY msg.created_at)                                                         AS message_compiled,
        (array_agg(msg.sender_id ORDER BY msg.created_at) FILTER (WHERE msg.sender_type = 'Contact'))[1]
                                                                                           AS client_sender_id,
        min(msg.inbox_id)                                                                  AS inbox_id,
        (SELECT who.phone_number FROM contacts who
          WHERE who.id = (array_agg(msg.sender_id ORDER BY msg.created_at)
                          FILTER (WHERE msg.sender_type = 'Contact'))[1]
          LIMIT 1)                                                                         AS client_phone,
        count(*)                                                                           AS t_messages,
        count(*) FILTER (WHERE NOT msg.private)                                            AS total_messages_public,
        count(*) FILTER (WHERE msg.private)                                                AS total_messages_private,
        min(msg.created_at)                                                                AS first_message_at,
        max(msg.created_at)                                                                AS last_message_at
    FROM messages msg
    WHERE msg.conversation_id = cb.conversation_id
    GROUP BY msg.conversation_id          -- no row for a conversation without messages, as deployed
) mc ON true
LEFT JOIN vw_csat_base cs ON cs.conversation_id = cb.conversation_id
LEFT JOIN vw_conversation_metrics_complete cm ON cm.conversation_id = cb.conversation_id
LEFT JOIN LATERAL (
    SELECT
        count(*) FILTER (WHERE NOT msg.private)                                            AS total_messages_public,
        count(*) FILTER (WHERE msg.sender_type = 'User' AND NOT msg.private)               AS user_messages_count,
        count(*) FILTER (WHERE msg.sender_type = 'Contact' AND NOT msg.private)            AS contact_messages_count,
        count(*) FILTER (WHERE NOT msg.private
                           AND (msg.sender_type IS NULL OR msg.sender_type NOT IN ('User', 'Contact')))
                                                                                           AS system_messages_count,
        count(*) FILTER (WHERE msg.private)                                                AS private_notes_count,
        (array_agg(msg.content ORDER BY msg.created_at) FILTER (WHERE NOT msg.private))[1] AS first_message_text,
        (array_agg(msg.content ORDER BY msg.created_at DESC) FILTER (WHERE NOT msg.private))[1] AS last_message_text,
        (array_agg(msg.sender_type ORDER BY msg.created_at) FILTER (WHERE NOT msg.private))[1] AS first_message_sender_type,
        (array_agg(msg.sender_type ORDER BY msg.created_at DESC) FILTER (WHERE NOT msg.private))[1]
                                                                                           AS last_message_sender_type,
        min(msg.created_at) FILTER (WHERE NOT msg.private)                                 AS first_message_at,
        max(msg.created_at) FILTER (WHERE NOT msg.private)                                 AS last_message_at,
        CASE WHEN max(msg.created_at) FILTER (WHERE NOT msg.private) IS NOT NULL
                  AND min(msg.created_at) FILTER (WHERE NOT msg.private) IS NOT NULL
             THEN extract(epoch FROM max(msg.created_at) FILTER (WHERE NOT msg.private)
                                     - min(msg.created_at) FILTER (WHERE NOT msg.private))::integer
        END                                                                                AS conversation_duration_seconds,
        CASE WHEN count(*) FILTER (WHERE NOT msg.private) > 1
                  AND max(msg.created_at) FILTER (WHERE NOT msg.private) IS NOT NULL
                  AND min(msg.created_at) FILTER (WHERE NOT msg.private) IS NOT NULL
             THEN round(extract(epoch FROM max(msg.created_at) FILTER (WHERE NOT msg.private)
                                           - min(msg.created_at) FILTER (WHERE NOT msg.private))
                        / NULLIF(count(*) FILTER (WHERE NOT msg.private) - 1, 0), 1)
        END                                                                                AS avg_time_between_messages_seconds,
        NULL                                                                               AS avg_sentiment_score,
        count(*) FILTER (WHERE msg.sentiment IS NOT NULL)                                  AS messages_with_sentiment_count,
        round(avg(length(msg.content)) FILTER (WHERE NOT msg.private AND msg.content IS NOT NULL), 0)::integer
                                                                                           AS avg_message_length,
        max(length(msg.content)) FILTER (WHERE NOT msg.private AND msg.content IS NOT NULL) AS max_message_length,
        (count(*) FILTER (WHERE msg.sender_type = 'User') > 0)                             AS has_user_messages,
        (count(*) FILTER (WHERE msg.sender_type = 'Contact') > 0)                          AS has_contact_messages,
        (count(*) FILTER (WHERE msg.private) > 0)                                          AS has_private_notes,
        (count(*) FILTER (WHERE msg.sender_type = 'Contact') > 0)                          AS has_contact_reply,
        (count(*) FILTER (WHERE NOT msg.private) <= 5)                                     AS is_short_conversation,
        (count(*) FILTER (WHERE NOT msg.private) > 20)                                     AS is_long_conversation,
        CASE WHEN count(*) FILTER (WHERE NOT msg.private) > 0
             THEN round(count(*) FILTER (WHERE msg.sender_type = 'User' AND NOT msg.private)::numeric
                        / NULLIF(count(*) FILTER (WHERE NOT msg.private), 0), 2)
        END                                                                                AS user_message_ratio,
        CASE WHEN count(*) FILTER (WHERE NOT msg.private) > 0
             THEN round(count(*) FILTER (WHERE msg.sender_type = 'Contact')::numeric
                        / NULLIF(count(*) FILTER (WHERE NOT msg.private), 0), 2)
        END                                                                                AS contact_message_ratio
    FROM messages msg
    WHERE msg.conversation_id = cb.conversation_id
    GROUP BY msg.conversation_id          -- no row for a conversation without messages, as deployed
) ms ON true
LEFT JOIN vw_temporal_metrics tm ON tm.conversation_id = cb.conversation_id
ORDER BY cb.conversation_created_at DESC;
