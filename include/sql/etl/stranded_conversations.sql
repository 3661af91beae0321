-- The tenant's conversations whose updated_at lies at or beyond this run's upper bound (the
-- source's clock): future-dated (read once the clock passes them) or infinite (never read by a
-- window). Through index_conversations_on_updated_at: only those rows are touched.
SELECT id AS conversation_id, inbox_id, updated_at::text AS updated_at, isfinite(updated_at) AS finite
FROM conversations
WHERE inbox_id = ANY(%(inboxes)s)
  AND updated_at >= %(until)s
ORDER BY updated_at, id
LIMIT %(limit)s;
