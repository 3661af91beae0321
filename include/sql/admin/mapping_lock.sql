-- The inbox's mapping row, locked until the end of the transaction: changes of one inbox
-- serialise here, so the decision taken on this row still holds when it is written.
SELECT m.inbox_id, m.tenant_id, t.slug AS tenant_slug, m.is_active, m.inbox_name, m.mapped_by, m.updated_at
FROM inbox_tenant_mapping AS m
JOIN tenants AS t ON t.id = m.tenant_id
WHERE m.inbox_id = %(inbox_id)s
FOR UPDATE OF m;
