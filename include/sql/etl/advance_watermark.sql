-- Advance a tenant's watermark, never backwards: runs in the same transaction as the chunk.
INSERT INTO etl_watermarks AS w (tenant_id, updated_at, conversation_id, execution_id, changed_at)
VALUES (%(tenant_id)s, %(updated_at)s, %(conversation_id)s, %(execution_id)s, now())
ON CONFLICT (tenant_id) DO UPDATE
SET updated_at = EXCLUDED.updated_at,
    conversation_id = EXCLUDED.conversation_id,
    execution_id = EXCLUDED.execution_id,
    changed_at = now()
WHERE (w.updated_at, w.conversation_id) < (EXCLUDED.updated_at, EXCLUDED.conversation_id);
