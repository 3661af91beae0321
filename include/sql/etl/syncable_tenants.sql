-- Tenants that get a sync: active (or trial), not deleted, with at least one active inbox.
SELECT t.id
FROM tenants AS t
WHERE t.deleted_at IS NULL
  AND coalesce(t.status, 'active') = ANY(%(synced_statuses)s)  -- NULL: the column's default, active
  AND EXISTS (SELECT 1 FROM inbox_tenant_mapping AS m WHERE m.tenant_id = t.id AND m.is_active)
ORDER BY t.id;
