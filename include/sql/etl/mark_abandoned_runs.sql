-- Runs of this tenant still 'running' while we hold its lock died without finishing
-- (killed process, lost connection): say so, with how far they got.
UPDATE etl_control
SET status = 'failed',
    finished_at = now(),
    duration_seconds = round(extract(epoch FROM now() - started_at)),
    error_message = 'abandoned: the run stopped without finishing (process killed or connection lost); '
                    || chunks_committed || ' chunk(s) had been committed',
    error_details = coalesce(error_details, '{}'::jsonb) || jsonb_build_object('abandoned_detected_by', %(execution_id)s::text)
WHERE tenant_id = %(tenant_id)s
  AND status = 'running'
  AND execution_id <> %(execution_id)s
RETURNING execution_id;
