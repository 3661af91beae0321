-- The latest mapping changes, optionally of one inbox.
SELECT id, changed_at, changed_by, action, inbox_id, from_tenant_id, to_tenant_id, from_active, to_active,
       forced, note, via
FROM inbox_mapping_audit
WHERE %(inbox_id)s::integer IS NULL OR inbox_id = %(inbox_id)s::integer
ORDER BY id DESC
LIMIT %(limit)s;
