-- Which of these conversations a source_clock_anomaly alert has already named, under any tenant
-- (a conversation id is Chatwoot's own: one whose inbox moved is not news again).
SELECT DISTINCT (item ->> 'conversation_id')::bigint
FROM etl_alerts AS a
CROSS JOIN LATERAL jsonb_array_elements(a.details -> 'conversations') AS item
WHERE a.kind = 'source_clock_anomaly'
  AND (item ->> 'conversation_id')::bigint = ANY(%(conversation_ids)s::bigint[]);
