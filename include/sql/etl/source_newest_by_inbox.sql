-- The newest change per inbox in the source (naive UTC). Read from Chatwoot's conversations
-- table, whose updated_at is the view's conversation_updated_at: an index-friendly max instead
-- of evaluating the whole analytics view every few minutes.
SELECT inbox_id, max(updated_at)
FROM conversations
WHERE inbox_id = ANY(%(inboxes)s)
GROUP BY inbox_id;
