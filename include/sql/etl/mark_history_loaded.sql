INSERT INTO etl_inbox_sync_state AS s (inbox_id, tenant_id, mapping_updated_at, history_loaded_at, execution_id)
VALUES (%(inbox_id)s, %(tenant_id)s, %(mapping_updated_at)s, now(), %(execution_id)s)
ON CONFLICT (inbox_id) DO UPDATE
SET tenant_id = EXCLUDED.tenant_id,
    mapping_updated_at = EXCLUDED.mapping_updated_at,
    history_loaded_at = now(),
    execution_id = EXCLUDED.execution_id;
