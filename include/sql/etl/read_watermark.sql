-- The tenant's watermark and the value last published to its Airflow Variable.
SELECT updated_at, conversation_id, mirrored_value
FROM etl_watermarks
WHERE tenant_id = %(tenant_id)s;
