-- The reader sees the base tables and the analytics view, and can change nothing.
GRANT USAGE ON SCHEMA public TO chatwoot_reader;
GRANT SELECT ON
    accounts, users, account_users, teams, inboxes, contacts, contact_inboxes,
    conversations, messages, csat_survey_responses,
    vw_conversations_analytics_final
TO chatwoot_reader;

-- Least privilege beyond the grants: PUBLIC may by default create temporary tables in a database,
-- large objects anywhere, and (before PostgreSQL 15) tables in `public`. The reader gets none of it
-- (`source inspect` reports what a production role still can).
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), pg_catalog.lo_import(text),
    pg_catalog.lo_import(text, oid), pg_catalog.lo_from_bytea(oid, bytea) FROM PUBLIC;
