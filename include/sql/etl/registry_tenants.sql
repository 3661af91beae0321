-- The tenants that get a DAG: active (or trial), not deleted, with at least one active inbox.
SELECT t.id,
       t.name,
       t.slug,
       t.timezone,
       nullif(trim(t.sync_schedule), '') AS sync_schedule,
       array_agg(m.inbox_id ORDER BY m.inbox_id) AS inboxes
FROM tenants AS t
JOIN inbox_tenant_mapping AS m ON m.tenant_id = t.id AND m.is_active
WHERE t.deleted_at IS NULL
  AND coalesce(t.status, 'active') = ANY(%(synced_statuses)s)  -- NULL: the column's default, active
GROUP BY t.id, t.name, t.slug, t.timezone, t.sync_schedule
ORDER BY t.id;
