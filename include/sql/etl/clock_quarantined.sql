-- Conversations of this tenant already quarantined for an infinite updated_at.
SELECT DISTINCT conversation_id
FROM etl_quarantine
WHERE tenant_id = %(tenant_id)s AND reason LIKE 'source_clock_anomaly:%%';
