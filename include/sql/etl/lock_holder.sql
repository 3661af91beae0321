-- Who holds a tenant's sync lock, and the run it is executing (for the refusal message).
SELECT a.pid,
       a.application_name,
       a.backend_start,
       r.execution_id,
       r.started_at AT TIME ZONE 'UTC' AS started_at  -- naive UTC in etl_control
FROM pg_locks AS l
JOIN pg_stat_activity AS a ON a.pid = l.pid
LEFT JOIN LATERAL (
    SELECT execution_id, started_at
    FROM etl_control
    WHERE tenant_id = %(tenant_id)s AND status = 'running'
    ORDER BY started_at DESC
    LIMIT 1
) AS r ON true
WHERE l.locktype = 'advisory'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())  -- locks are per database
  AND l.granted
  AND l.classid::bigint = %(namespace)s
  AND l.objid::bigint = %(key)s
  AND l.objsubid = 2
LIMIT 1;
