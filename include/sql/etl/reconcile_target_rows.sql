-- The target's version of given conversations of a tenant (compared with the source's).
-- conversation_updated_at is naive UTC: returned as the instant it is.
SELECT conversation_id, conversation_updated_at AT TIME ZONE 'UTC', is_lead, visit_scheduled
FROM conversations_analytics
WHERE tenant_id = %(tenant_id)s
  AND conversation_id = ANY(%(conversation_ids)s);
