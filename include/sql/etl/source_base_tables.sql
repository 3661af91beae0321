-- The contract's columns of vw_conversations_analytics_final, read from Chatwoot's base tables
-- with the deployed views' expressions, but index-friendly: every predicate of the extract on
-- inbox_id / conversation_updated_at / conversation_id lands on `conversations` (through
-- index_conversations_on_updated_at), and only the selected conversations' messages are
-- aggregated (LATERAL, through index_messages_on_conversation_id) instead of all of them.
--
-- Used as the extract's relation ("base_tables" strategy) only where the source role may read
-- the base tables AND a check on a sample found it equal to the view on every contract column
-- (chatwoot_etl.sync.strategy); otherwise the extract reads the view itself. The values follow
-- the deployed modular views: priority_label 'None' / 'Low' / ..., is_open = status 0 or 2,
-- activity messages counted as public, Portuguese CSAT categories, NULL message aggregates for a
-- conversation without messages, one row per CSAT answer. No bind parameters: the extract wraps it.
SELECT
    conv.id                                     AS conversation_id,
    conv.display_id,
    conv.uuid                                   AS conversation_uuid,
    conv.account_id,
    conv.inbox_id,
    conv.contact_id,
    conv.assignee_id,
    conv.team_id,
    conv.campaign_id,
    conv.status,
    CASE conv.status WHEN 0 THEN 'Aberta' WHEN 1 THEN 'Resolvida' WHEN 2 THEN 'Pendente'
         WHEN 3 THEN 'Adiada' WHEN 4 THEN 'Fechada' ELSE 'Desconhecido' END AS status_label_pt,
    conv.priority,
    CASE conv.priority WHEN 1 THEN 'Low' WHEN 2 THEN 'Medium' WHEN 3 THEN 'High' WHEN 4 THEN 'Urgent'
         ELSE 'None' END                        AS priority_label,
    COALESCE(conv.priority, 0)                  AS priority_score,
    conv.snoozed_until,
    acct.name                                   AS account_name,
    box.name                                    AS inbox_name,
    box.channel_type                            AS inbox_channel_type,
    box.timezone                                AS inbox_timezone,
    person.name                                 AS contact_name,
    person.email                                AS contact_email,
    person.phone_number                         AS contact_phone,
    person.identifier                           AS contact_identifier,
    agent.name                                  AS assignee_name,
    agent.email                                 AS assignee_email,
    squad.name                                  AS team_name,
    conv.created_at                             AS conversation_created_at,
    conv.updated_at                             AS conversation_updated_at,
    conv.last_activity_at,
    conv.first_reply_created_at,
    conv.waiting_since,
    conv.contact_last_seen_at,
    conv.agent_last_seen_at,
    mc.message_compiled,
    mc.client_sender_id,
    mc.client_phone,
    mc.t_messages,
    mc.total_messages_public,
    mc.total_messages_private,
    mc.first_message_at                         AS mc_first_message_at,
    mc.last_message_at                          AS mc_last_message_at,
    answer.id                                   AS csat_response_id,
    answer.rating                               AS csat_rating,
    answer.feedback_message                     AS csat_feedback,
    answer.created_at                           AS csat_created_at,
    CASE WHEN answer.id IS NULL THEN NULL
         WHEN answer.rating >= 5 THEN 'Promotor' WHEN answer.rating >= 4 THEN 'Neutro'
         WHEN answer.rating >= 1 THEN 'Detrator' ELSE 'Sem Rating' END AS csat_nps_category,
    CASE WHEN answer.rating >= 4 THEN 'Positivo' WHEN answer.rating = 3 THEN 'Neutro'
         WHEN answer.rating <= 2 THEN 'Negativo' END AS csat_sentiment_category,
    CASE WHEN answer.id IS NOT NULL
         THEN answer.feedback_message IS NOT NULL AND answer.feedback_message <> '' END AS has_written_feedback,
    (length(answer.feedback_message) > 50)      AS has_detailed_feedback,
    (answer.id IS NOT NULL)                     AS has_csat,
    CASE WHEN conv.first_reply_created_at IS NOT NULL
         THEN extract(epoch FROM conv.first_reply_created_at - conv.created_at)::integer END AS first_response_time_seconds,
    CASE WHEN conv.first_reply_created_at IS NOT NULL
         THEN round(extract(epoch FROM conv.first_reply_created_at - conv.created_at) / 60.0, 1) END
                                                AS first_response_time_minutes,
    CASE WHEN conv.status IN (1, 4)
         THEN extract(epoch FROM conv.updated_at - conv.created_at)::integer END AS resolution_time_seconds,
    (conv.assignee_id IS NOT NULL)              AS is_assigned,
    (conv.team_id IS NOT NULL)                  AS has_team,
    (conv.status IN (1, 4))                     AS is_resolved,
    (conv.status IN (0, 2))                     AS is_open,
    (conv.status = 2)                           AS is_pending,
    (conv.snoozed_until IS NOT NULL AND conv.snoozed_until > now()) AS is_snoozed,
    (conv.contact_id IS NOT NULL)               AS has_contact,
    (conv.waiting_since IS NOT NULL)            AS is_waiting,
    (conv.priority IS NOT NULL AND conv.priority > 0) AS has_priority,
    (conv.priority >= 3)                        AS is_high_priority,
    (conv.campaign_id IS NOT NULL)              AS is_from_campaign,
    CASE WHEN conv.first_reply_created_at IS NOT NULL
         THEN extract(epoch FROM conv.first_reply_created_at - conv.created_at) < 300 END AS is_fast_response,
    CASE WHEN conv.first_reply_created_at IS NOT NULL
         THEN extract(epoch FROM conv.first_reply_created_at - conv.created_at) > 1800 END AS is_slow_response,
    CASE WHEN conv.status IN (1, 4)
         THEN extract(epoch FROM conv.updated_at - conv.created_at) < 7200 END AS is_fast_resolution,
    COALESCE(extract(epoch FROM now() - conv.waiting_since) > 3600, false) AS is_waiting_long,
    (conv.contact_last_seen_at IS NOT NULL)     AS contact_has_seen,
    (conv.agent_last_seen_at IS NOT NULL)       AS agent_has_seen,
    mc.user_messages_count,
    mc.contact_messages_count,
    mc.private_notes_count,
    mc.first_message_text,
    mc.last_message_text,
    mc.first_message_sender_type,
    mc.last_message_sender_type,
    mc.conversation_duration_seconds,
    mc.avg_time_between_messages_seconds,
    mc.avg_message_length,
    mc.max_message_length,
    mc.has_user_messages,
    mc.has_contact_messages,
    mc.has_private_notes,
    mc.has_contact_reply,
    mc.is_short_conversation,
    mc.is_long_conversation,
    mc.user_message_ratio,
    mc.contact_message_ratio,
    (mc.user_messages_count > 0)                AS has_human_intervention,
    (conv.status IN (1, 4) AND mc.user_messages_count = 0) AS is_bot_resolved
FROM conversations conv
LEFT JOIN contacts person  ON person.id = conv.contact_id
LEFT JOIN inboxes box      ON box.id = conv.inbox_id
LEFT JOIN users agent      ON agent.id = conv.assignee_id
LEFT JOIN teams squad      ON squad.id = conv.team_id
LEFT JOIN accounts acct    ON acct.id = conv.account_id
LEFT JOIN csat_survey_responses answer ON answer.conversation_id = conv.id
-- One pass over the conversation's messages for every aggregate; GROUP BY gives no row (so NULLs,
-- as deployed) for a conversation without messages. message_compiled is built as json text, not
-- as the view's jsonb: the same value once the analytics column (jsonb) parses it, and the objects
-- are not built, sorted and printed again here, which cost the source about a third of this query.
-- Each message is a row turned into an object (its column names the keys) rather than
-- json_build_object's key / value list: about a tenth less of this query again, and compact text.
LEFT JOIN LATERAL (
    SELECT
        json_agg((SELECT message FROM (SELECT msg.id AS message_id, msg.content AS text, msg.sender_type AS sender,
                                              msg.sender_id, msg.created_at AS sent_at, msg.message_type,
                                              msg.content_type, msg.status, msg.private, msg.sentiment,
                                              msg.source_id) AS message)
                 ORDER BY msg.created_at)                                                     AS message_compiled,
        (array_agg(msg.sender_id ORDER BY msg.created_at)
            FILTER (WHERE msg.sender_type = 'Contact'))[1]                            AS client_sender_id,
        (SELECT who.phone_number FROM contacts who
          WHERE who.id = (array_agg(msg.sender_id ORDER BY msg.created_at)
                          FILTER (WHERE msg.sender_type = 'Contact'))[1]
          LIMIT 1)                                                                     AS client_phone,
        count(*)                                                                       AS t_messages,
        count(*) FILTER (WHERE NOT msg.private)                                        AS total_messages_public,
        count(*) FILTER (WHERE msg.private)                                            AS total_messages_private,
        min(msg.created_at)                                                            AS first_message_at,
        max(msg.created_at)                                                            AS last_message_at,
        count(*) FILTER (WHERE msg.sender_type = 'User' AND NOT msg.private)           AS user_messages_count,
        count(*) FILTER (WHERE msg.sender_type = 'Contact' AND NOT msg.private)        AS contact_messages_count,
        count(*) FILTER (WHERE msg.private)                                            AS private_notes_count,
        (array_agg(msg.content ORDER BY msg.created_at) FILTER (WHERE NOT msg.private))[1]      AS first_message_text,
        (array_agg(msg.content ORDER BY msg.created_at DESC) FILTER (WHERE NOT msg.private))[1] AS last_message_text,
        (array_agg(msg.sender_type ORDER BY msg.created_at) FILTER (WHERE NOT msg.private))[1]  AS first_message_sender_type,
        (array_agg(msg.sender_type ORDER BY msg.created_at DESC) FILTER (WHERE NOT msg.private))[1]
                                                                                       AS last_message_sender_type,
        extract(epoch FROM max(msg.created_at) FILTER (WHERE NOT msg.private)
                           - min(msg.created_at) FILTER (WHERE NOT msg.private))::integer AS conversation_duration_seconds,
        CASE WHEN count(*) FILTER (WHERE NOT msg.private) > 1
             THEN round(extract(epoch FROM max(msg.created_at) FILTER (WHERE NOT msg.private)
                                           - min(msg.created_at) FILTER (WHERE NOT msg.private))
                        / (count(*) FILTER (WHERE NOT msg.private) - 1), 1)
        END                                                                            AS avg_time_between_messages_seconds,
        round(avg(length(msg.content)) FILTER (WHERE NOT msg.private AND msg.content IS NOT NULL), 0)::integer
                                                                                       AS avg_message_length,
        max(length(msg.content)) FILTER (WHERE NOT msg.private AND msg.content IS NOT NULL) AS max_message_length,
        (count(*) FILTER (WHERE msg.sender_type = 'User') > 0)                         AS has_user_messages,
        (count(*) FILTER (WHERE msg.sender_type = 'Contact') > 0)                      AS has_contact_messages,
        (count(*) FILTER (WHERE msg.private) > 0)                                      AS has_private_notes,
        (count(*) FILTER (WHERE msg.sender_type = 'Contact') > 0)                      AS has_contact_reply,
        (count(*) FILTER (WHERE NOT msg.private) <= 5)                                 AS is_short_conversation,
        (count(*) FILTER (WHERE NOT msg.private) > 20)                                 AS is_long_conversation,
        CASE WHEN count(*) FILTER (WHERE NOT msg.private) > 0
             THEN round(count(*) FILTER (WHERE msg.sender_type = 'User' AND NOT msg.private)::numeric
                        / count(*) FILTER (WHERE NOT msg.private), 2) END             AS user_message_ratio,
        CASE WHEN count(*) FILTER (WHERE NOT msg.private) > 0
             THEN round(count(*) FILTER (WHERE msg.sender_type = 'Contact')::numeric
                        / count(*) FILTER (WHERE NOT msg.private), 2) END             AS contact_message_ratio
    FROM messages msg
    WHERE msg.conversation_id = conv.id
    GROUP BY msg.conversation_id
) mc ON true
