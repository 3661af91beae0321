-- The first load of a tenant with no rows yet: the staged chunk inserted as it is, without the
-- upsert's conflict arbitration, row comparison and RETURNING. Chunks of one read never share a
-- conversation, so nothing conflicts; if a row does (the table changed under the run), the
-- unique violation sends the chunk back to upsert_chunk.sql. Same mapping re-check as the upsert.
INSERT INTO conversations_analytics ({columns})
SELECT {staged_columns}
FROM etl_stage_conversations AS s
WHERE EXISTS (
    SELECT 1 FROM inbox_tenant_mapping AS m
    WHERE m.inbox_id = s.inbox_id AND m.tenant_id = s.tenant_id AND m.is_active
);
