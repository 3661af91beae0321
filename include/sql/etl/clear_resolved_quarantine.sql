-- Conversations read and written successfully again: the entries that kept them on record in their
-- place (the source could not compute them, or their updated_at was infinite) are resolved, under
-- whichever tenant recorded them (a conversation id is Chatwoot's own: an inbox that moved to
-- another tenant takes its conversations with it). Rows the transform rejected keep their entries.
DELETE FROM etl_quarantine
WHERE (reason LIKE 'source_row_error:%%' OR reason LIKE 'source_clock_anomaly:%%')
  AND conversation_id = ANY(%(conversation_ids)s::text[]);
