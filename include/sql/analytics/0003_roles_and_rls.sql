-- Least-privilege roles and row-level security.
--   dashboard  : reads conversations_analytics, only the rows of app.current_tenant_id
--                (tenant 0 sees every row; unset or invalid sees none); cannot write.
--   etl_writer : reads and writes every tenant's rows, and the control tables.
-- Roles are cluster-wide, so they are created only when missing. Grant them to login roles.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dashboard') THEN
        CREATE ROLE dashboard NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'etl_writer') THEN
        CREATE ROLE etl_writer NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created concurrently by another database's migration
END $$;

-- The tenant a dashboard connection asked for, or NULL when unset or not a tenant id.
CREATE OR REPLACE FUNCTION app_current_tenant_id() RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN current_setting('app.current_tenant_id', true) ~ '^\s*[0-9]{1,9}\s*$'
        THEN trim(current_setting('app.current_tenant_id', true))::integer
    END
$$;

ALTER TABLE conversations_analytics ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS dashboard_tenant_rows ON conversations_analytics;
CREATE POLICY dashboard_tenant_rows ON conversations_analytics
    FOR SELECT TO dashboard
    USING (tenant_id = app_current_tenant_id() OR app_current_tenant_id() = 0);

DROP POLICY IF EXISTS etl_writer_all_rows ON conversations_analytics;
CREATE POLICY etl_writer_all_rows ON conversations_analytics
    FOR ALL TO etl_writer
    USING (true) WITH CHECK (true);

GRANT USAGE ON SCHEMA public TO dashboard, etl_writer;
GRANT SELECT ON conversations_analytics, tenants TO dashboard;
GRANT EXECUTE ON FUNCTION app_current_tenant_id() TO dashboard, etl_writer;

GRANT SELECT, INSERT, UPDATE, DELETE ON
    conversations_analytics, tenants, inbox_tenant_mapping, etl_control,
    etl_watermarks, etl_inbox_sync_state, etl_quarantine, etl_alerts
    TO etl_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO etl_writer;

-- The ETL stages each chunk in a temporary table.
DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO etl_writer', current_database());
END $$;
