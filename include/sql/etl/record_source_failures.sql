-- Conversations the source could not compute, quarantined before the window's final read.
UPDATE etl_control SET records_failed = records_failed + %(failed)s WHERE execution_id = %(execution_id)s;
