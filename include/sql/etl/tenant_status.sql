-- One line per tenant for `chatwoot-etl status`.
SELECT t.id,
       t.slug,
       t.status,
       (SELECT count(*) FROM inbox_tenant_mapping AS m WHERE m.tenant_id = t.id AND m.is_active) AS inboxes,
       w.updated_at AS watermark,
       r.load_type,
       r.status,
       r.started_at,
       r.records_extracted,
       r.records_inserted,
       r.records_updated,
       r.records_failed,
       (SELECT count(*) FROM conversations_analytics AS c WHERE c.tenant_id = t.id) AS rows,
       (SELECT array_agg(m.inbox_id) FROM inbox_tenant_mapping AS m WHERE m.tenant_id = t.id AND m.is_active)
FROM tenants AS t
LEFT JOIN etl_watermarks AS w ON w.tenant_id = t.id
LEFT JOIN LATERAL (
    SELECT * FROM etl_control AS e WHERE e.tenant_id = t.id ORDER BY e.started_at DESC LIMIT 1
) AS r ON true
WHERE t.deleted_at IS NULL AND t.id <> 0
ORDER BY t.id;
