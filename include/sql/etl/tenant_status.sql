-- One line per tenant for `chatwoot-etl status` (the lag is added from the source's side).
SELECT t.id AS tenant,
       t.slug,
       t.status,
       (SELECT count(*) FROM inbox_tenant_mapping AS m WHERE m.tenant_id = t.id AND m.is_active) AS inboxes,
       w.updated_at AS watermark,
       r.load_type AS last_run,
       r.status AS result,
       r.started_at AT TIME ZONE 'UTC' AS started_at,  -- naive UTC in etl_control
       r.records_extracted AS extracted,
       r.records_inserted AS inserted,
       r.records_updated AS updated,
       r.records_failed AS failed,
       r.stranded_rows AS stranded,                    -- updated beyond the source's clock
       (SELECT count(*) FROM conversations_analytics AS c WHERE c.tenant_id = t.id) AS rows,
       (SELECT array_agg(m.inbox_id) FROM inbox_tenant_mapping AS m WHERE m.tenant_id = t.id AND m.is_active)
           AS inbox_ids
FROM tenants AS t
LEFT JOIN etl_watermarks AS w ON w.tenant_id = t.id
LEFT JOIN LATERAL (
    SELECT * FROM etl_control AS e WHERE e.tenant_id = t.id ORDER BY e.started_at DESC LIMIT 1
) AS r ON true
WHERE t.deleted_at IS NULL AND t.id <> 0
ORDER BY t.id;
