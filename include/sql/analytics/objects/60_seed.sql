-- Tenant 0 is the platform's own tenant: it owns no inbox, its users are the administrators
-- (whose visibility comes from the admin_users role, not from this id). Kept when present.
INSERT INTO tenants (id, name, slug, status, plan, max_conversations, max_users)
VALUES (0, 'Platform admin', 'platform-admin', 'active', 'internal', -1, -1)
ON CONFLICT (id) DO NOTHING;

-- No inbox is mapped to tenant 0. NOT VALID: enforced for every new or changed mapping without
-- failing on rows an older system may have left.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'inbox_tenant_mapping_not_admin') THEN
        ALTER TABLE inbox_tenant_mapping
            ADD CONSTRAINT inbox_tenant_mapping_not_admin CHECK (tenant_id <> 0) NOT VALID;
    END IF;
END $$;
