-- Every tenant (not deleted) with its mapped inboxes.
SELECT t.id, t.slug, t.name, t.account_id, t.status, t.timezone,
       count(m.inbox_id) FILTER (WHERE m.is_active) AS active_inboxes,
       count(m.inbox_id) FILTER (WHERE NOT m.is_active) AS inactive_inboxes,
       t.created_at
FROM tenants AS t
LEFT JOIN inbox_tenant_mapping AS m ON m.tenant_id = t.id
WHERE t.deleted_at IS NULL
GROUP BY t.id
ORDER BY t.id;
