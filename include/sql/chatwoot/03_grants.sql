-- The reader sees the base tables and the analytics view, and can change nothing.
GRANT USAGE ON SCHEMA public TO chatwoot_reader;
GRANT SELECT ON
    accounts, users, account_users, teams, inboxes, contacts, contact_inboxes,
    conversations, messages, csat_survey_responses,
    vw_conversations_analytics_final
TO chatwoot_reader;
