INSERT INTO etl_control (tenant_id, execution_id, load_type, status, triggered_by, watermark_start, watermark_end)
VALUES (%(tenant_id)s, %(execution_id)s, %(load_type)s, 'running', %(triggered_by)s, %(watermark_start)s, %(watermark_start)s);
