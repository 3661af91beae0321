-- Conversations of this tenant already quarantined for a kind of reason (the reason's prefix,
-- such as 'source_clock_anomaly' or 'source_row_error'): each is recorded and alerted once.
SELECT DISTINCT conversation_id
FROM etl_quarantine
WHERE tenant_id = %(tenant_id)s AND reason LIKE %(kind)s || ':%%';
