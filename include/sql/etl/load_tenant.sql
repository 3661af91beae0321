-- The tenant a sync runs for (deleted tenants do not sync).
SELECT id, name, slug, status, timezone, lead_rules
FROM tenants
WHERE id = %(tenant_id)s AND deleted_at IS NULL;
