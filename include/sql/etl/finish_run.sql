UPDATE etl_control
SET status = %(status)s,
    finished_at = now(),
    duration_seconds = round(extract(epoch FROM now() - started_at)),
    records_deleted = records_deleted + %(deleted)s,
    error_message = %(error_message)s,
    error_details = coalesce(error_details, '{}'::jsonb) || %(details)s
WHERE execution_id = %(execution_id)s;
