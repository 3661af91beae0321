-- Exactly what each role needs (GRANT is idempotent; nothing is revoked from an adopted database).
GRANT USAGE ON SCHEMA public TO authenticated_users, admin_users, etl_service;

-- Dashboards' clients: their tenant's rows (the policies above), read only.
GRANT SELECT ON tenants, inbox_tenant_mapping, conversations_analytics, etl_control TO authenticated_users;

-- Administrators: the registry and the analytics, and the ETL's own records to read.
GRANT ALL ON tenants, inbox_tenant_mapping, conversations_analytics, etl_control TO admin_users;
GRANT SELECT ON etl_watermarks, etl_inbox_sync_state, etl_quarantine, etl_alerts, etl_source_checks, inbox_mapping_audit TO admin_users;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO admin_users;

-- The ETL: reads the registry, writes the analytics, its run log and its own state.
GRANT SELECT ON tenants, inbox_tenant_mapping TO etl_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON conversations_analytics, etl_control TO etl_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON etl_watermarks, etl_inbox_sync_state, etl_quarantine, etl_alerts, etl_source_checks TO etl_service;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO etl_service;
-- It stages each chunk in a temporary table.
DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO etl_service', current_database());
END $$;
