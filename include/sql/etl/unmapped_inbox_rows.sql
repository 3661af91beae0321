-- Target rows of the tenant whose inbox is no longer actively mapped to it: no longer refreshed.
SELECT c.inbox_id, count(*) AS rows
FROM conversations_analytics AS c
WHERE c.tenant_id = %(tenant_id)s
  AND NOT EXISTS (
      SELECT 1 FROM inbox_tenant_mapping AS m
      WHERE m.inbox_id = c.inbox_id AND m.tenant_id = c.tenant_id AND m.is_active
  )
GROUP BY c.inbox_id
ORDER BY c.inbox_id;
