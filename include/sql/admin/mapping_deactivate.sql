UPDATE inbox_tenant_mapping
SET is_active = false
WHERE inbox_id = %(inbox_id)s
  AND is_active
RETURNING inbox_id, tenant_id, is_active, updated_at;
