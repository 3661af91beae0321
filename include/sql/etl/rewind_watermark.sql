-- An operator's rewind (an earlier value in the Variable mirror): the watermark moves back.
UPDATE etl_watermarks
SET updated_at = %(updated_at)s, conversation_id = %(conversation_id)s, execution_id = %(execution_id)s,
    changed_at = now()
WHERE tenant_id = %(tenant_id)s;
