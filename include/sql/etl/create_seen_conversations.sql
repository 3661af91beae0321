-- Full refresh: the conversations the source still has for the tenant, collected chunk by chunk.
CREATE TEMPORARY TABLE IF NOT EXISTS etl_seen_conversations (
    conversation_id integer PRIMARY KEY
) ON COMMIT PRESERVE ROWS;
