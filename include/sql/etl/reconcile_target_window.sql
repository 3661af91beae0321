-- What the target holds for a sync window: synced inboxes after the keyset bound, history
-- inboxes from the beginning, both before the window's upper bound.
SELECT count(*) AS target_rows,
       count(*) FILTER (WHERE is_lead) AS target_leads,
       count(*) FILTER (WHERE visit_scheduled) AS target_visits
FROM conversations_analytics
WHERE tenant_id = %(tenant_id)s
  AND conversation_updated_at < %(until)s
  AND ((inbox_id = ANY(%(synced_inboxes)s)
        AND (conversation_updated_at, conversation_id) > (%(after_updated_at)s, %(after_conversation_id)s))
       OR inbox_id = ANY(%(history_inboxes)s));
