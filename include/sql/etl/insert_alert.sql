-- One alert (task failure, retry warning, freshness, reconciliation) for the on-call engineer.
INSERT INTO etl_alerts (severity, kind, tenant_id, dag_id, task_id, run_id, try_number, message, log_url, details)
VALUES (%(severity)s, %(kind)s, %(tenant_id)s, %(dag_id)s, %(task_id)s, %(run_id)s, %(try_number)s,
        %(message)s, %(log_url)s, %(details)s)
RETURNING id;
