-- Conversations read successfully again: their source_row_error quarantine entries are resolved.
DELETE FROM etl_quarantine
WHERE tenant_id = %(tenant_id)s
  AND reason LIKE 'source_row_error:%%'
  AND conversation_id = ANY(%(conversation_ids)s::text[]);
