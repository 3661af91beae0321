-- The tenant's active inboxes, and whether each one's whole history is loaded for this tenant
-- under its current mapping (a new, moved or re-activated inbox is not).
SELECT m.inbox_id,
       m.inbox_name AS name,
       m.updated_at AS mapping_updated_at,
       (s.inbox_id IS NOT NULL
        AND s.tenant_id = m.tenant_id
        AND s.mapping_updated_at >= m.updated_at) AS history_loaded
FROM inbox_tenant_mapping AS m
LEFT JOIN etl_inbox_sync_state AS s ON s.inbox_id = m.inbox_id
WHERE m.tenant_id = %(tenant_id)s
  AND m.is_active
ORDER BY m.inbox_id;
