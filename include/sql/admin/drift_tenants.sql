-- Tenants the drift report looks at: not deleted, not the platform admin; with their active inbox count.
SELECT t.id, t.slug, t.account_id, t.status,
       count(m.inbox_id) FILTER (WHERE m.is_active) AS active_inboxes
FROM tenants AS t
LEFT JOIN inbox_tenant_mapping AS m ON m.tenant_id = t.id
WHERE t.deleted_at IS NULL
  AND t.id <> 0
GROUP BY t.id
ORDER BY t.id;
