-- Every mapping with its tenant.
SELECT m.inbox_id, m.tenant_id, t.slug AS tenant_slug, m.is_active, m.inbox_name, m.channel_type,
       m.mapped_by, m.updated_at
FROM inbox_tenant_mapping AS m
JOIN tenants AS t ON t.id = m.tenant_id
ORDER BY m.inbox_id;
