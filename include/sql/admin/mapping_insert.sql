-- A new mapping. DO NOTHING when a concurrent transaction mapped the inbox first (the primary
-- key on inbox_id is what guarantees one tenant per inbox): the caller then reports the winner.
INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id, inbox_name, channel_type, is_active, mapped_by)
VALUES (%(inbox_id)s, %(tenant_id)s, %(inbox_name)s, %(channel_type)s, true, %(mapped_by)s)
ON CONFLICT (inbox_id) DO NOTHING
RETURNING inbox_id, tenant_id, is_active, updated_at;
