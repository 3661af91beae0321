-- Set (or clear, with NULL) a tenant's own sync schedule; the previous one is read from the locked row.
WITH old AS (
    SELECT id, sync_schedule FROM tenants WHERE id = %(id)s AND deleted_at IS NULL FOR UPDATE
)
UPDATE tenants AS t
SET sync_schedule = %(schedule)s
FROM old
WHERE t.id = old.id
RETURNING t.id, t.slug, old.sync_schedule AS old_schedule, t.sync_schedule AS schedule;
