-- The reconcile step's verdict on one run.
UPDATE etl_control
SET reconciled_at = now(),
    reconcile_status = %(status)s,
    source_rows = %(source_rows)s,
    target_rows = %(target_rows)s,
    source_leads = %(source_leads)s,
    target_leads = %(target_leads)s,
    source_visits = %(source_visits)s,
    target_visits = %(target_visits)s,
    reconcile_details = %(details)s
WHERE execution_id = %(execution_id)s;
