-- Conversations a source_clock_anomaly alert of this tenant has already named (alert once each).
SELECT DISTINCT (item ->> 'conversation_id')::bigint
FROM etl_alerts AS a
CROSS JOIN LATERAL jsonb_array_elements(a.details -> 'conversations') AS item
WHERE a.kind = 'source_clock_anomaly' AND a.tenant_id = %(tenant_id)s;
