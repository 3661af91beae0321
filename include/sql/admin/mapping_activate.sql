-- Re-activate an inactive mapping, possibly under another tenant. Only an inactive row is taken
-- over: an inbox active under a tenant is never re-assigned by `map` (that is `move`).
UPDATE inbox_tenant_mapping
SET tenant_id = %(tenant_id)s,
    is_active = true,
    inbox_name = coalesce(%(inbox_name)s, inbox_name),
    channel_type = coalesce(%(channel_type)s, channel_type),
    mapped_by = %(mapped_by)s
WHERE inbox_id = %(inbox_id)s
  AND NOT is_active
RETURNING inbox_id, tenant_id, is_active, updated_at;
