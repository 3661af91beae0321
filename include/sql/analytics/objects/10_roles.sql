-- The database's roles (cluster-wide: created only when missing, never altered):
--   authenticated_users  client sessions of the dashboards: their own tenant's rows, read only
--   admin_users          the platform's administrators: every row
--   etl_service          the ETL: writes conversations_analytics and its own tables, reads the
--                        registry (tenants, inbox_tenant_mapping) of every tenant
-- Created NOLOGIN here; grant them to login roles (or ALTER ROLE etl_service LOGIN PASSWORD ...).
DO $$
DECLARE
    wanted text;
BEGIN
    FOREACH wanted IN ARRAY ARRAY['authenticated_users', 'admin_users', 'etl_service'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = wanted) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', wanted);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created concurrently by another database's migration
            END;
        END IF;
    END LOOP;
END $$;
