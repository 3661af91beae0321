-- Each tenant's latest sync since a moment (the demo's start), with its reconciliation and watermark.
SELECT DISTINCT ON (c.tenant_id)
       c.tenant_id, c.status, c.load_type, c.records_extracted, c.records_inserted, c.records_updated,
       c.records_unchanged, c.records_failed, c.reconcile_status, w.updated_at AS watermark
FROM etl_control AS c
LEFT JOIN etl_watermarks AS w ON w.tenant_id = c.tenant_id
WHERE c.tenant_id = ANY(%(tenant_ids)s)
  AND c.started_at >= (%(since)s AT TIME ZONE 'UTC')  -- naive UTC in etl_control
  AND c.status <> 'refused'
ORDER BY c.tenant_id, c.started_at DESC;
