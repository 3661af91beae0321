-- One tenant by id or by slug (not deleted), with its plan's limits.
SELECT id, slug, name, account_id, coalesce(status, 'active') AS status, plan, timezone, inbox_ids, max_inboxes,
       lead_pack, lead_rules
FROM tenants
WHERE (id = %(id)s OR slug = %(slug)s)
  AND deleted_at IS NULL
ORDER BY id
LIMIT 1;
