-- Upsert the staged chunk. Rows are rewritten only when a value actually changed (the relative-to-now
-- fields alone are no change), so re-reading unchanged rows (the lookback) costs no writes;
-- RETURNING tells inserts from updates exactly.
-- The mapping is re-checked here: rows of an inbox unmapped during the run are not written.
INSERT INTO conversations_analytics AS t ({columns})
SELECT {staged_columns}
FROM etl_stage_conversations AS s
WHERE EXISTS (
    SELECT 1 FROM inbox_tenant_mapping AS m
    WHERE m.inbox_id = s.inbox_id AND m.tenant_id = s.tenant_id AND m.is_active
)
ON CONFLICT (tenant_id, conversation_id) DO UPDATE
SET ({updatable}) = ROW({excluded_updatable}),
    etl_updated_at = now()
WHERE ({current_compared}) IS DISTINCT FROM ({excluded_compared})
RETURNING (xmax = 0) AS inserted;
