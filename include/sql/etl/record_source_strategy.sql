-- Which relation this run reads from the source, and why (see chatwoot_etl.sync.strategy).
UPDATE etl_control
SET source_strategy = %(strategy)s
WHERE execution_id = %(execution_id)s;
