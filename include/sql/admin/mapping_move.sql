-- Move a mapping to another tenant (active there from now on).
UPDATE inbox_tenant_mapping
SET tenant_id = %(tenant_id)s,
    is_active = true,
    inbox_name = coalesce(%(inbox_name)s, inbox_name),
    channel_type = coalesce(%(channel_type)s, channel_type),
    mapped_by = %(mapped_by)s
WHERE inbox_id = %(inbox_id)s
  AND tenant_id = %(from_tenant_id)s
RETURNING inbox_id, tenant_id, is_active, updated_at;
