-- Change a tenant's status; the previous one is read from the locked row.
WITH old AS (
    SELECT id, status FROM tenants WHERE id = %(id)s AND deleted_at IS NULL FOR UPDATE
)
UPDATE tenants AS t
SET status = %(status)s
FROM old
WHERE t.id = old.id
RETURNING t.id, t.slug, old.status AS old_status, t.status AS status;
