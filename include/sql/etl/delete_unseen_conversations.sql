-- Full refresh: target rows of the tenant whose conversation the source no longer has for it
-- (deleted, or its inbox is no longer mapped to the tenant).
DELETE FROM conversations_analytics AS c
WHERE c.tenant_id = %(tenant_id)s
  AND NOT EXISTS (SELECT 1 FROM etl_seen_conversations AS s WHERE s.conversation_id = c.conversation_id);
