-- vw_conversations_analytics_final in the owner's SINGLE-FILE form: one view, the 118 columns the
-- load's contract names (in another order than the modular form), the same whole-table message
-- aggregates and value vocabulary as 02_view.sql, but message_compiled objects with 7 keys
-- (message_id, text, sender, sender_id, sent_at, message_type, private) instead of 11.
-- Locally: seed.apply_schema(conn, view="single") (or CHATWOOT_ETL_SOURCE_VIEW=single).
-- The ETL reads it like the modular one; its base-table query does not produce these
-- message_compiled objects, so the strategy check finds them different and syncs read the view.
DROP VIEW IF EXISTS vw_conversations_analytics_final, vw_conversations_base_complete,
    vw_messages_compiled_complete, vw_csat_base, vw_conversation_metrics_complete,
    vw_message_stats_complete, vw_temporal_metrics;

CREATE VIEW vw_conversations_analytics_final AS
SELECT
    conv.id AS conversation_id, conv.display_id, conv.uuid AS conversation_uuid, conv.account_id, conv.inbox_id,
    conv.contact_id, conv.assignee_id, conv.team_id, conv.campaign_id,
    acct.name AS account_name, box.name AS inbox_name, box.channel_type AS inbox_channel_type,
    box.timezone AS inbox_timezone, person.name AS contact_name, person.email AS contact_email,
    person.phone_number AS contact_phone, person.identifier AS contact_identifier, agent.name AS assignee_name,
    agent.email AS assignee_email, squad.name AS team_name,
    conv.created_at AS conversation_created_at, conv.updated_at AS conversation_updated_at, conv.last_activity_at,
    conv.first_reply_created_at, conv.waiting_since, conv.contact_last_seen_at, conv.agent_last_seen_at,
    conv.snoozed_until,
    conv.status,
    CASE conv.status WHEN 0 THEN 'Aberta' WHEN 1 THEN 'Resolvida' WHEN 2 THEN 'Pendente'
         WHEN 3 THEN 'Adiada' WHEN 4 THEN 'Fechada' ELSE 'Desconhecido' END AS status_label_pt,
    conv.priority,
    CASE conv.priority WHEN 1 THEN 'Low' WHEN 2 THEN 'Medium' WHEN 3 THEN 'High' WHEN 4 THEN 'Urgent'
         ELSE 'None' END AS priority_label,
    COALESCE(conv.priority, 0) AS priority_score,
    mc.message_compiled, mc.client_sender_id, mc.client_phone, mc.t_messages, mc.total_messages_public,
    mc.total_messages_private, mc.first_message_at AS mc_first_message_at, mc.last_message_at AS mc_last_message_at,
    answer.id AS csat_response_id, answer.rating AS csat_rating, answer.feedback_message AS csat_feedback,
    answer.created_at AS csat_created_at,
    CASE WHEN answer.id IS NULL THEN NULL WHEN answer.rating >= 5 THEN 'Promotor' WHEN answer.rating >= 4 THEN 'Neutro'
         WHEN answer.rating >= 1 THEN 'Detrator' ELSE 'Sem Rating' END AS csat_nps_category,
    CASE WHEN answer.rating >= 4 THEN 'Positivo' WHEN answer.rating = 3 THEN 'Neutro'
         WHEN answer.rating <= 2 THEN 'Negativo' END AS csat_sentiment_category,
    CASE WHEN answer.id IS NOT NULL
         THEN answer.feedback_message IS NOT NULL AND answer.feedback_message <> '' END AS has_written_feedback,
    (length(answer.feedback_message) > 50) AS has_detailed_feedback,
    (answer.id IS NOT NULL) AS has_csat,
    CASE WHEN conv.first_reply_created_at IS NOT NULL
         THEN extract(epoch FROM conv.first_reply_created_at - conv.created_at)::integer END AS first_response_time_seconds,
    CASE WHEN conv.first_reply_created_at IS NOT NULL
         THEN round(extract(epoch FROM conv.first_reply_created_at - conv.created_at) / 60.0, 1) END
                                                                              AS first_response_time_minutes,
    CASE WHEN conv.status IN (1, 4)
         THEN extract(epoch FROM conv.updated_at - conv.created_at)::integer END AS resolution_time_seconds,
    CASE WHEN conv.waiting_since IS NOT NULL
         THEN extract(epoch FROM now() - conv.waiting_since)::integer END AS waiting_time_seconds,
    (conv.assignee_id IS NOT NULL) AS is_assigned, (conv.team_id IS NOT NULL) AS has_team,
    (conv.status IN (1, 4)) AS is_resolved, (conv.status IN (0, 2)) AS is_open, (conv.status = 2) AS is_pending,
    (conv.snoozed_until IS NOT NULL AND conv.snoozed_until > now()) AS is_snoozed,
    (conv.contact_id IS NOT NULL) AS has_contact, (conv.waiting_since IS NOT NULL) AS is_waiting,
    (conv.priority IS NOT NULL AND conv.priority > 0) AS has_priority, (conv.priority >= 3) AS is_high_priority,
    (conv.campaign_id IS NOT NULL) AS is_from_campaign,
    CASE WHEN conv.first_reply_created_at IS NOT NULL
         THEN extract(epoch FROM conv.first_reply_created_at - conv.created_at) < 300 END AS is_fast_response,
    CASE WHEN conv.first_reply_created_at IS NOT NULL
         THEN extract(epoch FROM conv.first_reply_created_at - conv.created_at) > 1800 END AS is_slow_response,
    CASE WHEN conv.status IN (1, 4)
         THEN extract(epoch FROM conv.updated_at - conv.created_at) < 7200 END AS is_fast_resolution,
    COALESCE(extract(epoch FROM now() - conv.waiting_since) > 3600, false) AS is_waiting_long,
    (conv.contact_last_seen_at IS NOT NULL) AS contact_has_seen, (conv.agent_last_seen_at IS NOT NULL) AS agent_has_seen,
    ms.user_messages_count, ms.contact_messages_count, ms.private_notes_count, ms.first_message_text,
    ms.last_message_text, ms.first_message_sender_type, ms.last_message_sender_type,
    ms.conversation_duration_seconds, ms.avg_time_between_messages_seconds, ms.avg_message_length,
    ms.max_message_length, ms.has_user_messages, ms.has_contact_messages, ms.has_private_notes,
    ms.has_contact_reply, ms.is_short_conversation, ms.is_long_conversation, ms.user_message_ratio,
    ms.contact_message_ratio,
    (ms.user_messages_count > 0) AS has_human_intervention,
    (conv.status IN (1, 4) AND ms.user_messages_count = 0) AS is_bot_resolved,
    conv.created_at::date AS conversation_date,
    extract(year FROM conv.created_at)::integer AS conversation_year,
    extract(month FROM conv.created_at)::integer AS conversation_month,
    extract(day FROM conv.created_at)::integer AS conversation_day,
    extract(dow FROM conv.created_at)::integer AS conversation_day_of_week,
    extract(hour FROM conv.created_at)::integer AS conversation_hour,
    extract(minute FROM conv.created_at)::integer AS conversation_minute,
    extract(week FROM conv.created_at)::integer AS conversation_week_of_year,
    extract(quarter FROM conv.created_at)::integer AS conversation_quarter,
    (ARRAY['Domingo', 'Segunda', 'Terça', 'Quarta', 'Quinta', 'Sexta', 'Sábado'])
        [extract(dow FROM conv.created_at)::integer + 1] AS conversation_day_name,
    (ARRAY['Janeiro', 'Fevereiro', 'Março', 'Abril', 'Maio', 'Junho', 'Julho', 'Agosto', 'Setembro',
           'Outubro', 'Novembro', 'Dezembro'])[extract(month FROM conv.created_at)::integer] AS conversation_month_name,
    CASE WHEN extract(hour FROM conv.created_at) < 6 THEN 'Madrugada'
         WHEN extract(hour FROM conv.created_at) < 12 THEN 'Manhã'
         WHEN extract(hour FROM conv.created_at) < 18 THEN 'Tarde' ELSE 'Noite' END AS conversation_period,
    (extract(dow FROM conv.created_at)::integer BETWEEN 1 AND 5) AS is_weekday,
    (extract(dow FROM conv.created_at)::integer IN (0, 6)) AS is_weekend,
    (extract(dow FROM conv.created_at)::integer BETWEEN 1 AND 5
        AND extract(hour FROM conv.created_at) BETWEEN 9 AND 17) AS is_business_hours,
    (extract(hour FROM conv.created_at) >= 20 OR extract(hour FROM conv.created_at) < 6) AS is_night_time,
    (CURRENT_DATE - conv.created_at::date)::integer AS days_since_creation,
    (conv.created_at::date = CURRENT_DATE) AS is_today,
    (conv.created_at::date = CURRENT_DATE - 1) AS is_yesterday,
    (conv.created_at >= date_trunc('week', CURRENT_DATE)) AS is_this_week,
    (conv.created_at >= date_trunc('month', CURRENT_DATE)) AS is_this_month,
    (extract(year FROM conv.created_at) = extract(year FROM CURRENT_DATE)) AS is_this_year,
    to_char(conv.created_at, 'YYYY-MM-DD') AS conversation_date_formatted,
    to_char(conv.created_at, 'YYYY-MM-DD HH24:MI') AS conversation_datetime_formatted,
    to_char(conv.created_at, 'YYYY-MM') AS conversation_year_month,
    to_char(conv.created_at, 'IYYY-IW') AS conversation_year_week
FROM conversations conv
LEFT JOIN contacts person ON person.id = conv.contact_id
LEFT JOIN inboxes box ON box.id = conv.inbox_id
LEFT JOIN users agent ON agent.id = conv.assignee_id
LEFT JOIN teams squad ON squad.id = conv.team_id
LEFT JOIN accounts acct ON acct.id = conv.account_id
LEFT JOIN csat_survey_responses answer ON answer.conversation_id = conv.id
LEFT JOIN (
    SELECT msg.conversation_id,
           jsonb_agg(jsonb_build_object('message_id', msg.id, 'text', msg.content, 'sender', msg.sender_type,
                                        'sender_id', msg.sender_id, 'sent_at', msg.created_at,
                                        'message_type', msg.message_type, 'private', msg.private)
                     ORDER BY msg.created_at) AS message_compiled,
           (array_agg(msg.sender_id ORDER BY msg.created_at) FILTER (WHERE msg.sender_type = 'Contact'))[1]
               AS client_sender_id,
           (SELECT who.phone_number FROM contacts who
             WHERE who.id = (array_agg(msg.sender_id ORDER BY msg.created_at)
                             FILTER (WHERE msg.sender_type = 'Contact'))[1] LIMIT 1) AS client_phone,
           count(*) AS t_messages,
           count(*) FILTER (WHERE NOT msg.private) AS total_messages_public,
           count(*) FILTER (WHERE msg.private) AS total_messages_private,
           min(msg.created_at) AS first_message_at,
           max(msg.created_at) AS last_message_at
    FROM messages msg
    GROUP BY msg.conversation_id
) mc ON mc.conversation_id = conv.id
LEFT JOIN (
    SELECT msg.conversation_id,
           count(*) FILTER (WHERE msg.sender_type = 'User' AND NOT msg.private) AS user_messages_count,
           count(*) FILTER (WHERE msg.sender_type = 'Contact' AND NOT msg.private) AS contact_messages_count,
           count(*) FILTER (WHERE msg.private) AS private_notes_count,
           (array_agg(msg.content ORDER BY msg.created_at) FILTER (WHERE NOT msg.private))[1] AS first_message_text,
           (array_agg(msg.content ORDER BY msg.created_at DESC) FILTER (WHERE NOT msg.private))[1] AS last_message_text,
           (array_agg(msg.sender_type ORDER BY msg.created_at) FILTER (WHERE NOT msg.private))[1]
               AS first_message_sender_type,
           (array_agg(msg.sender_type ORDER BY msg.created_at DESC) FILTER (WHERE NOT msg.private))[1]
               AS last_message_sender_type,
           extract(epoch FROM max(msg.created_at) FILTER (WHERE NOT msg.private)
                              - min(msg.created_at) FILTER (WHERE NOT msg.private))::integer
               AS conversation_duration_seconds,
           CASE WHEN count(*) FILTER (WHERE NOT msg.private) > 1
                THEN round(extract(epoch FROM max(msg.created_at) FILTER (WHERE NOT msg.private)
                                              - min(msg.created_at) FILTER (WHERE NOT msg.private))
                           / (count(*) FILTER (WHERE NOT msg.private) - 1), 1) END
               AS avg_time_between_messages_seconds,
           round(avg(length(msg.content)) FILTER (WHERE NOT msg.private AND msg.content IS NOT NULL), 0)::integer
               AS avg_message_length,
           max(length(msg.content)) FILTER (WHERE NOT msg.private AND msg.content IS NOT NULL) AS max_message_length,
           (count(*) FILTER (WHERE msg.sender_type = 'User') > 0) AS has_user_messages,
           (count(*) FILTER (WHERE msg.sender_type = 'Contact') > 0) AS has_contact_messages,
           (count(*) FILTER (WHERE msg.private) > 0) AS has_private_notes,
           (count(*) FILTER (WHERE msg.sender_type = 'Contact') > 0) AS has_contact_reply,
           (count(*) FILTER (WHERE NOT msg.private) <= 5) AS is_short_conversation,
           (count(*) FILTER (WHERE NOT msg.private) > 20) AS is_long_conversation,
           CASE WHEN count(*) FILTER (WHERE NOT msg.private) > 0
                THEN round(count(*) FILTER (WHERE msg.sender_type = 'User' AND NOT msg.private)::numeric
                           / count(*) FILTER (WHERE NOT msg.private), 2) END AS user_message_ratio,
           CASE WHEN count(*) FILTER (WHERE NOT msg.private) > 0
                THEN round(count(*) FILTER (WHERE msg.sender_type = 'Contact')::numeric
                           / count(*) FILTER (WHERE NOT msg.private), 2) END AS contact_message_ratio
    FROM messages msg
    GROUP BY msg.conversation_id
) ms ON ms.conversation_id = conv.id;
