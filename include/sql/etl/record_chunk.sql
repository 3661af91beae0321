-- Progress of a run, committed in the same transaction as the chunk it counts.
UPDATE etl_control
SET records_extracted = records_extracted + %(extracted)s,
    records_inserted  = records_inserted  + %(inserted)s,
    records_updated   = records_updated   + %(updated)s,
    records_unchanged = records_unchanged + %(unchanged)s,
    records_failed    = records_failed    + %(failed)s,
    chunks_committed  = chunks_committed  + 1,
    watermark_end     = coalesce(%(watermark_end)s, watermark_end)
WHERE execution_id = %(execution_id)s;
