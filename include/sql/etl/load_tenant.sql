-- The tenant a sync runs for (deleted tenants do not sync; a NULL status is the column's default, active).
SELECT id, name, slug, coalesce(status, 'active') AS status, plan, timezone, lead_pack, lead_rules
FROM tenants
WHERE id = %(tenant_id)s AND deleted_at IS NULL;
