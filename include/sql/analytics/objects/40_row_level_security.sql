-- Row-level security by role, never by a value a client can type:
--   authenticated_users  rows of its own tenant (get_current_tenant_id()), read only
--   admin_users          every row
--   etl_service          every row of the tables it writes, and the registry it reads for every
--                        tenant (RLS on a control table once locked the ETL out of the system)
-- A policy is created only when the table has none for that role and command yet (or one for
-- ALL): an adopted database keeps its own policies, whatever their names.

CREATE FUNCTION pg_temp.ensure_policy(tbl text, policy text, command text, role text, expr text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_policies AS p
        WHERE p.schemaname = current_schema() AND p.tablename = tbl
          AND role = ANY(p.roles)
          AND (p.cmd = command OR p.cmd = 'ALL')
    ) THEN
        IF command = 'SELECT' THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO %I USING (%s)', policy, tbl, role, expr);
        ELSE
            EXECUTE format('CREATE POLICY %I ON %I FOR %s TO %I USING (%s) WITH CHECK (%s)',
                           policy, tbl, command, role, expr, expr);
        END IF;
    END IF;
END $$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbox_tenant_mapping ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversations_analytics ENABLE ROW LEVEL SECURITY;
ALTER TABLE etl_control ENABLE ROW LEVEL SECURITY;

SELECT pg_temp.ensure_policy('tenants', 'tenants_own_tenant', 'SELECT', 'authenticated_users', 'id = get_current_tenant_id()');
SELECT pg_temp.ensure_policy('tenants', 'tenants_admin_select', 'SELECT', 'admin_users', 'true');
SELECT pg_temp.ensure_policy('tenants', 'tenants_admin_all', 'ALL', 'admin_users', 'true');
SELECT pg_temp.ensure_policy('tenants', 'tenants_etl_read', 'SELECT', 'etl_service', 'true');

SELECT pg_temp.ensure_policy('inbox_tenant_mapping', 'inbox_tenant_mapping_own_tenant', 'SELECT', 'authenticated_users',
                             'tenant_id = get_current_tenant_id()');
SELECT pg_temp.ensure_policy('inbox_tenant_mapping', 'inbox_tenant_mapping_admin_select', 'SELECT', 'admin_users', 'true');
SELECT pg_temp.ensure_policy('inbox_tenant_mapping', 'inbox_tenant_mapping_admin_all', 'ALL', 'admin_users', 'true');
SELECT pg_temp.ensure_policy('inbox_tenant_mapping', 'inbox_tenant_mapping_etl_read', 'SELECT', 'etl_service', 'true');

SELECT pg_temp.ensure_policy('conversations_analytics', 'conversations_analytics_own_tenant', 'SELECT', 'authenticated_users',
                             'tenant_id = get_current_tenant_id()');
SELECT pg_temp.ensure_policy('conversations_analytics', 'conversations_analytics_admin_select', 'SELECT', 'admin_users', 'true');
SELECT pg_temp.ensure_policy('conversations_analytics', 'conversations_analytics_admin_all', 'ALL', 'admin_users', 'true');
SELECT pg_temp.ensure_policy('conversations_analytics', 'conversations_analytics_etl_all', 'ALL', 'etl_service', 'true');

SELECT pg_temp.ensure_policy('etl_control', 'etl_control_own_tenant', 'SELECT', 'authenticated_users',
                             'tenant_id = get_current_tenant_id() OR tenant_id IS NULL');
SELECT pg_temp.ensure_policy('etl_control', 'etl_control_admin_select', 'SELECT', 'admin_users', 'true');
SELECT pg_temp.ensure_policy('etl_control', 'etl_control_admin_all', 'ALL', 'admin_users', 'true');
SELECT pg_temp.ensure_policy('etl_control', 'etl_control_etl_all', 'ALL', 'etl_service', 'true');

DROP FUNCTION pg_temp.ensure_policy(text, text, text, text, text);
