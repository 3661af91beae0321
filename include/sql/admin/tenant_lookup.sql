-- One tenant by id or by slug (not deleted).
SELECT id, slug, name, account_id, status, timezone
FROM tenants
WHERE (id = %(id)s OR slug = %(slug)s)
  AND deleted_at IS NULL
ORDER BY id
LIMIT 1;
