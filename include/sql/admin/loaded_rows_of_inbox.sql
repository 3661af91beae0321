-- Conversations of an inbox stored in the target, per tenant.
SELECT tenant_id, count(*) AS rows
FROM conversations_analytics
WHERE inbox_id = %(inbox_id)s
GROUP BY tenant_id
ORDER BY tenant_id;
