-- A re-classification's run row: how many stored rows it read and rewrote.
UPDATE etl_control
SET status = %(status)s, finished_at = now(), duration_seconds = extract(epoch FROM now() - started_at)::integer,
    records_extracted = %(read)s, records_updated = %(changed)s, records_unchanged = %(unchanged)s,
    error_message = %(error_message)s, error_details = %(details)s
WHERE execution_id = %(execution_id)s;
