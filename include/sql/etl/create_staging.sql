-- Per-connection staging table with the target's column types (no constraints: the upsert checks).
CREATE TEMPORARY TABLE IF NOT EXISTS etl_stage_conversations
ON COMMIT DELETE ROWS
AS SELECT {columns} FROM conversations_analytics WITH NO DATA;
