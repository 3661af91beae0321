-- Map an inbox unless it is already mapped (to this or another tenant): never moves one silently.
INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id, inbox_name, channel_type, mapped_by)
VALUES (%(inbox_id)s, %(tenant_id)s, %(inbox_name)s, %(channel_type)s, 'chatwoot-etl demo')
ON CONFLICT (inbox_id) DO NOTHING;
