-- Staged rows whose inbox is not (or no longer) actively mapped to the row's tenant: not written.
SELECT count(*)
FROM etl_stage_conversations AS s
WHERE NOT EXISTS (
    SELECT 1 FROM inbox_tenant_mapping AS m
    WHERE m.inbox_id = s.inbox_id AND m.tenant_id = s.tenant_id AND m.is_active
);
