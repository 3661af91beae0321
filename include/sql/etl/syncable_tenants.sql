-- Tenants that get a sync: active (or trial), not deleted, with at least one active inbox.
SELECT t.id
FROM tenants AS t
WHERE t.deleted_at IS NULL
  AND t.status = ANY(%(synced_statuses)s)
  AND EXISTS (SELECT 1 FROM inbox_tenant_mapping AS m WHERE m.tenant_id = t.id AND m.is_active)
ORDER BY t.id;
