INSERT INTO etl_quarantine (tenant_id, execution_id, conversation_id, inbox_id, reason, raw_row)
VALUES (%(tenant_id)s, %(execution_id)s, %(conversation_id)s, %(inbox_id)s, %(reason)s, %(raw_row)s);
