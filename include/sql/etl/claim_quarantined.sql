-- Which of these conversations are already on record for a kind of reason (its prefix, such as
-- 'source_clock_anomaly' or 'source_row_error'): each is recorded and alerted once. A conversation
-- id is Chatwoot's own, so an entry recorded under another tenant (the inbox moved since) moves to
-- this tenant with its conversation instead of being recorded twice.
WITH moved AS (
    UPDATE etl_quarantine
    SET tenant_id = %(tenant_id)s
    WHERE reason LIKE %(kind)s || ':%%'
      AND conversation_id = ANY(%(conversation_ids)s::text[])
      AND tenant_id <> %(tenant_id)s
    RETURNING conversation_id
)
SELECT conversation_id FROM moved
UNION
SELECT conversation_id
FROM etl_quarantine
WHERE tenant_id = %(tenant_id)s
  AND reason LIKE %(kind)s || ':%%'
  AND conversation_id = ANY(%(conversation_ids)s::text[]);
