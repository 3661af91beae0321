-- vw_conversations_analytics_final as the owner deployed it: six modular views and a final view
-- that joins them, over Chatwoot's base tables, with the deployed definitions' semantics:
--   * vw_conversations_base_complete: conversations joined with contacts, inboxes, users
--     (assignee), teams, accounts and contact_inboxes, passing through many extra columns;
--   * vw_messages_compiled_complete and vw_message_stats_complete: GROUP BY conversation_id over
--     the WHOLE messages table; no predicate on the final view reaches inside them, so every read
--     of it, however narrow, aggregates every message;
--   * vw_csat_base: one row per CSAT answer (two answers: two final rows for one conversation);
--   * vw_conversation_metrics_complete and vw_temporal_metrics: per-conversation expressions,
--     the calendar in naive UTC and the "relative to now" fields against now();
--   * the final view: 171 columns (cb.* first), ORDER BY conversation_created_at DESC.
-- Nothing is cast to the ETL's spelling: the columns carry Chatwoot's own types (timestamp(6),
-- character varying, bigint counts), as in production. The value vocabulary is the deployed one:
-- priority_label 'None' / 'Low' / ... (the text 'None', also for priority 0), Portuguese CSAT
-- categories, is_open = status 0 or 2, activity messages counted as public messages, NULL
-- message_compiled and NULL counts for a conversation without messages.
-- Dropped first (CREATE OR REPLACE VIEW cannot change columns); the other definitions of this
-- directory drop the same names, so applying one switches a source in place.
DROP VIEW IF EXISTS vw_conversations_analytics_final, vw_conversations_base_complete,
    vw_messages_compiled_complete, vw_csat_base, vw_conversation_metrics_complete,
    vw_message_stats_complete, vw_temporal_metrics;

CREATE VIEW vw_conversations_base_complete AS
SELECT
    conv.id                          AS conversation_id,
    conv.display_id,
    conv.uuid                        AS conversation_uuid,
    conv.identifier                  AS conversation_identifier,
    conv.account_id,
    conv.status,
    conv.priority,
    conv.snoozed_until,
    conv.sla_policy_id,
    conv.assignee_id,
    conv.team_id,
    conv.campaign_id,
    conv.contact_id,
    conv.inbox_id,
    conv.contact_inbox_id,
    conv.created_at                  AS conversation_created_at,
    conv.updated_at                  AS conversation_updated_at,
    conv.last_activity_at,
    conv.first_reply_created_at,
    conv.waiting_since,
    conv.contact_last_seen_at,
    conv.agent_last_seen_at,
    conv.assignee_last_seen_at,
    conv.cached_label_list,
    conv.additional_attributes       AS conversation_additional_attributes,
    conv.custom_attributes           AS conversation_custom_attributes,
    person.name                      AS contact_name,
    person.email                     AS contact_email,
    person.phone_number              AS contact_phone,
    person.identifier                AS contact_identifier,
    person.contact_type,
    person.middle_name               AS contact_middle_name,
    person.last_name                 AS contact_last_name,
    person.location                  AS contact_location,
    person.country_code              AS contact_country,
    person.blocked                   AS contact_blocked,
    person.created_at                AS contact_created_at,
    person.updated_at                AS contact_updated_at,
    person.last_activity_at          AS contact_last_activity_at,
    person.additional_attributes     AS contact_additional_attributes,
    person.custom_attributes         AS contact_custom_attributes,
    box.name                         AS inbox_name,
    box.channel_type                 AS inbox_channel_type,
    box.channel_id                   AS inbox_channel_id,
    box.business_name                AS inbox_business_name,
    box.timezone                     AS inbox_timezone,
    box.enable_auto_assignment       AS inbox_auto_assignment_enabled,
    box.greeting_enabled             AS inbox_greeting_enabled,
    box.greeting_message             AS inbox_greeting_message,
    box.email_address                AS inbox_email_address,
    box.working_hours_enabled        AS inbox_working_hours_enabled,
    box.out_of_office_message        AS inbox_out_of_office_message,
    box.csat_survey_enabled          AS inbox_csat_enabled,
    box.allow_messages_after_resolved AS inbox_allow_messages_after_resolved,
    box.portal_id                    AS inbox_portal_id,
    box.sender_name_type             AS inbox_sender_name_type,
    agent.name                       AS assignee_name,
    agent.display_name               AS assignee_display_name,
    agent.email                      AS assignee_email,
    agent.availability               AS assignee_availability,
    agent.type                       AS assignee_type,
    agent.custom_attributes          AS assignee_custom_attributes,
    squad.name                       AS team_name,
    squad.description                AS team_description,
    squad.allow_auto_assign          AS team_allow_auto_assign,
    acct.name                        AS account_name,
    acct.locale                      AS account_locale,
    acct.domain                      AS account_domain,
    acct.support_email               AS account_support_email,
    acct.status                      AS account_status,
    link.source_id                   AS contact_inbox_source_id,
    link.hmac_verified               AS contact_inbox_hmac_verified,
    link.pubsub_token                AS contact_inbox_pubsub_token
FROM conversations conv
LEFT JOIN contacts person       ON person.id = conv.contact_id
LEFT JOIN inboxes box           ON box.id = conv.inbox_id
LEFT JOIN users agent           ON agent.id = conv.assignee_id
LEFT JOIN teams squad           ON squad.id = conv.team_id
LEFT JOIN accounts acct         ON acct.id = conv.account_id
LEFT JOIN contact_inboxes link  ON link.id = conv.contact_inbox_id;

-- Every message of every conversation, compiled (11 keys, in sending order) and counted.
CREATE VIEW vw_messages_compiled_complete AS
SELECT
    msg.conversation_id,
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
GROUP BY msg.conversation_id;

CREATE VIEW vw_csat_base AS
SELECT
    answer.id                AS csat_response_id,
    answer.conversation_id,
    answer.account_id,
    answer.contact_id,
    answer.message_id,
    answer.assigned_agent_id,
    answer.rating            AS csat_rating,
    answer.feedback_message  AS csat_feedback,
    answer.created_at        AS csat_created_at,
    answer.updated_at        AS csat_updated_at,
    CASE WHEN answer.rating >= 5 THEN 'Promotor'
         WHEN answer.rating >= 4 THEN 'Neutro'
         WHEN answer.rating >= 1 THEN 'Detrator'
         ELSE 'Sem Rating' END                                       AS csat_nps_category,
    CASE WHEN answer.rating >= 4 THEN 'Positivo'
         WHEN answer.rating = 3 THEN 'Neutro'
         WHEN answer.rating <= 2 THEN 'Negativo' END                 AS csat_sentiment_category,
    (answer.feedback_message IS NOT NULL AND answer.feedback_message <> '') AS has_written_feedback,
    (length(answer.feedback_message) > 50)                          AS has_detailed_feedback
FROM csat_survey_responses answer;

CREATE VIEW vw_conversation_metrics_complete AS
SELECT
    conv.id AS conversation_id,
    CASE WHEN conv.first_reply_created_at IS NOT NULL AND conv.created_at IS NOT NULL
         THEN extract(epoch FROM conv.first_reply_created_at - conv.created_at)::integer END AS first_response_time_seconds,
    CASE WHEN conv.first_reply_created_at IS NOT NULL AND conv.created_at IS NOT NULL
         THEN round(extract(epoch FROM conv.first_reply_created_at - conv.created_at) / 60.0, 1) END
                                                                          AS first_response_time_minutes,
    CASE WHEN conv.status IN (1, 4) AND conv.updated_at IS NOT NULL AND conv.created_at IS NOT NULL
         THEN extract(epoch FROM conv.updated_at - conv.created_at)::integer END AS resolution_time_seconds,
    CASE WHEN conv.waiting_since IS NOT NULL
         THEN extract(epoch FROM now() - conv.waiting_since)::integer END AS waiting_time_seconds,
    (conv.assignee_id IS NOT NULL)                                        AS is_assigned,
    (conv.team_id IS NOT NULL)                                            AS has_team,
    (conv.status IN (1, 4))                                               AS is_resolved,
    (conv.status IN (0, 2))                                               AS is_open,
    (conv.status = 2)                                                     AS is_pending,
    (conv.snoozed_until IS NOT NULL AND conv.snoozed_until > now())       AS is_snoozed,
    (conv.contact_id IS NOT NULL)                                         AS has_contact,
    (conv.waiting_since IS NOT NULL)                                      AS is_waiting,
    (conv.priority IS NOT NULL AND conv.priority > 0)                     AS has_priority,
    (conv.priority >= 3)                                                  AS is_high_priority,
    (conv.campaign_id IS NOT NULL)                                        AS is_from_campaign,
    CASE WHEN conv.first_reply_created_at IS NOT NULL AND conv.created_at IS NOT NULL
         THEN extract(epoch FROM conv.first_reply_created_at - conv.created_at) < 300 END AS is_fast_response,
    CASE WHEN conv.first_reply_created_at IS NOT NULL AND conv.created_at IS NOT NULL
         THEN extract(epoch FROM conv.first_reply_created_at - conv.created_at) > 1800 END AS is_slow_response,
    CASE WHEN conv.status IN (1, 4) AND conv.updated_at IS NOT NULL AND conv.created_at IS NOT NULL
         THEN extract(epoch FROM conv.updated_at - conv.created_at) < 7200 END AS is_fast_resolution,
    CASE WHEN conv.waiting_since IS NOT NULL
         THEN extract(epoch FROM now() - conv.waiting_since) > 3600 ELSE false END AS is_waiting_long,
    (conv.contact_last_seen_at IS NOT NULL)                               AS contact_has_seen,
    (conv.agent_last_seen_at IS NOT NULL)                                 AS agent_has_seen,
    COALESCE(conv.priority, 0)                                            AS priority_score,
    CASE conv.priority WHEN 1 THEN 'Low' WHEN 2 THEN 'Medium' WHEN 3 THEN 'High' WHEN 4 THEN 'Urgent'
         ELSE 'None' END                                                  AS priority_label,
    CASE conv.status WHEN 0 THEN 'Aberta' WHEN 1 THEN 'Resolvida' WHEN 2 THEN 'Pendente'
         WHEN 3 THEN 'Adiada' WHEN 4 THEN 'Fechada' ELSE 'Desconhecido' END AS status_label_pt
FROM conversations conv;

-- Message statistics: "public" is every message that is not a private note, activity included.
CREATE VIEW vw_message_stats_complete AS
SELECT
    msg.conversation_id,
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
GROUP BY msg.conversation_id;

-- Calendar of the naive UTC created_at (a UTC-3 business sees the wrong day near midnight).
CREATE VIEW vw_temporal_metrics AS
SELECT
    conv.id AS conversation_id,
    conv.created_at::date                                   AS conversation_date,
    extract(year FROM conv.created_at)::integer             AS conversation_year,
    extract(month FROM conv.created_at)::integer            AS conversation_month,
    extract(day FROM conv.created_at)::integer              AS conversation_day,
    extract(dow FROM conv.created_at)::integer              AS conversation_day_of_week,
    extract(hour FROM conv.created_at)::integer             AS conversation_hour,
    extract(minute FROM conv.created_at)::integer           AS conversation_minute,
    extract(week FROM conv.created_at)::integer             AS conversation_week_of_year,
    extract(quarter FROM conv.created_at)::integer          AS conversation_quarter,
    (ARRAY['Domingo', 'Segunda', 'Terça', 'Quarta', 'Quinta', 'Sexta', 'Sábado'])
        [extract(dow FROM conv.created_at)::integer + 1]    AS conversation_day_name,
    (ARRAY['Dom', 'Seg', 'Ter', 'Qua', 'Qui', 'Sex', 'Sáb'])
        [extract(dow FROM conv.created_at)::integer + 1]    AS conversation_day_abbr,
    (ARRAY['Janeiro', 'Fevereiro', 'Março', 'Abril', 'Maio', 'Junho', 'Julho', 'Agosto', 'Setembro',
           'Outubro', 'Novembro', 'Dezembro'])[extract(month FROM conv.created_at)::integer] AS conversation_month_name,
    (ARRAY['Jan', 'Fev', 'Mar', 'Abr', 'Mai', 'Jun', 'Jul', 'Ago', 'Set', 'Out', 'Nov', 'Dez'])
        [extract(month FROM conv.created_at)::integer]      AS conversation_month_abbr,
    CASE WHEN extract(hour FROM conv.created_at) BETWEEN 0 AND 5 THEN 'Madrugada'
         WHEN extract(hour FROM conv.created_at) BETWEEN 6 AND 11 THEN 'Manhã'
         WHEN extract(hour FROM conv.created_at) BETWEEN 12 AND 17 THEN 'Tarde'
         WHEN extract(hour FROM conv.created_at) BETWEEN 18 AND 23 THEN 'Noite' END AS conversation_period,
    CASE WHEN extract(hour FROM conv.created_at) BETWEEN 0 AND 5 THEN 'Madrugada'
         WHEN extract(hour FROM conv.created_at) BETWEEN 6 AND 8 THEN 'Manhã Cedo'
         WHEN extract(hour FROM conv.created_at) BETWEEN 9 AND 11 THEN 'Manhã'
         WHEN extract(hour FROM conv.created_at) BETWEEN 12 AND 14 THEN 'Meio-dia'
         WHEN extract(hour FROM conv.created_at) BETWEEN 15 AND 17 THEN 'Tarde'
         WHEN extract(hour FROM conv.created_at) BETWEEN 18 AND 23 THEN 'Noite' END AS conversation_period_detailed,
    (extract(dow FROM conv.created_at)::integer BETWEEN 1 AND 5)                     AS is_weekday,
    (extract(dow FROM conv.created_at)::integer IN (0, 6))                           AS is_weekend,
    (extract(dow FROM conv.created_at)::integer BETWEEN 1 AND 5
        AND extract(hour FROM conv.created_at) BETWEEN 9 AND 17)                     AS is_business_hours,
    (extract(dow FROM conv.created_at)::integer BETWEEN 1 AND 5
        AND extract(hour FROM conv.created_at) BETWEEN 8 AND 19)                     AS is_extended_hours,
    (extract(hour FROM conv.created_at) >= 20 OR extract(hour FROM conv.created_at) < 6) AS is_night_time,
    (extract(hour FROM conv.created_at) BETWEEN 12 AND 13)                           AS is_lunch_time,
    (extract(day FROM conv.created_at) <= 10)                                        AS is_start_of_month,
    (extract(day FROM conv.created_at)
        > extract(day FROM (date_trunc('month', conv.created_at) + interval '1 month - 10 days')::date))
                                                                                     AS is_end_of_month,
    (CURRENT_DATE - conv.created_at::date)::integer                                  AS days_since_creation,
    (conv.created_at::date = CURRENT_DATE)                                           AS is_today,
    (conv.created_at::date = CURRENT_DATE - 1)                                       AS is_yesterday,
    (conv.created_at >= date_trunc('week', CURRENT_DATE))                            AS is_this_week,
    (conv.created_at >= date_trunc('month', CURRENT_DATE))                           AS is_this_month,
    (extract(year FROM conv.created_at) = extract(year FROM CURRENT_DATE))           AS is_this_year,
    to_char(conv.created_at, 'YYYY-MM-DD')                                           AS conversation_date_formatted,
    to_char(conv.created_at, 'YYYY-MM-DD HH24:MI')                                   AS conversation_datetime_formatted,
    to_char(conv.created_at, 'YYYY-MM')                                              AS conversation_year_month,
    to_char(conv.created_at, 'IYYY-IW')                                              AS conversation_year_week
FROM conversations conv;

CREATE VIEW vw_conversations_analytics_final AS
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
LEFT JOIN vw_messages_compiled_complete mc ON mc.conversation_id = cb.conversation_id
LEFT JOIN vw_csat_base cs ON cs.conversation_id = cb.conversation_id
LEFT JOIN vw_conversation_metrics_complete cm ON cm.conversation_id = cb.conversation_id
LEFT JOIN vw_message_stats_complete ms ON ms.conversation_id = cb.conversation_id
LEFT JOIN vw_temporal_metrics tm ON tm.conversation_id = cb.conversation_id
ORDER BY cb.conversation_created_at DESC;
