-- Every tenant that gets a sync, with its watermark (NULL = never synced) and active inboxes.
SELECT t.id,
       t.slug,
       w.updated_at AS watermark,
       array_agg(m.inbox_id ORDER BY m.inbox_id) AS inboxes
FROM tenants AS t
JOIN inbox_tenant_mapping AS m ON m.tenant_id = t.id AND m.is_active
LEFT JOIN etl_watermarks AS w ON w.tenant_id = t.id
WHERE t.deleted_at IS NULL
  AND coalesce(t.status, 'active') = ANY(%(synced_statuses)s)  -- NULL: the column's default, active
GROUP BY t.id, t.slug, w.updated_at
ORDER BY t.id;
