-- A staged conversation stored under another tenant moved here (its inbox or the conversation
-- moved): remove the old copy in the same transaction, so it is never stored under two tenants.
-- Only for rows whose inbox is mapped to this tenant right now.
DELETE FROM conversations_analytics AS c
USING etl_stage_conversations AS s
JOIN inbox_tenant_mapping AS m
  ON m.inbox_id = s.inbox_id AND m.tenant_id = s.tenant_id AND m.is_active
WHERE c.conversation_id = s.conversation_id
  AND c.tenant_id <> s.tenant_id;
