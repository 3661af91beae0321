-- One tenant's changed conversations, as one streamed statement over one snapshot.
-- Keyset order (conversation_updated_at, conversation_id) with the CSAT columns last, so the
-- view's duplicate rows of one conversation are adjacent. The window is half-open [after, until):
--   * inboxes already synced: only rows after the keyset position (after_updated_at, after_conversation_id);
--   * inboxes whose history is not loaded yet (new, moved, re-activated): every row, including
--     rows with a NULL or infinite updated_at, so the transform quarantines them instead of the
--     window silently never reaching them.
-- only_ids (NULL: all) and excluded_ids narrow it to, or exclude, given conversations.
-- The column list (text columns prefixed, see sync/source.py) and the relation (the view or the
-- base-table query, see sync/strategy.py) are composed with psycopg.sql; the rest are bind parameters.
-- sync/source.py streams it as COPY (...) TO STDOUT (FORMAT csv), and EXPLAINs it for a row estimate.
SELECT {columns}
FROM {relation}
WHERE (
        (
            inbox_id = ANY(%(synced_inboxes)s)
            AND (conversation_updated_at, conversation_id) > (%(after_updated_at)s, %(after_conversation_id)s)
            AND conversation_updated_at < %(until)s
        )
     OR (
            inbox_id = ANY(%(history_inboxes)s)
            AND (conversation_updated_at < %(until)s
                 OR conversation_updated_at IS NULL
                 OR NOT isfinite(conversation_updated_at))
        )
      )
  -- narrowing a failed read down to the rows the source cannot compute (sync/poison.py):
  AND (%(only_ids)s::integer[] IS NULL OR conversation_id = ANY(%(only_ids)s::integer[]))
  AND conversation_id <> ALL(%(excluded_ids)s::integer[])
ORDER BY conversation_updated_at, conversation_id,
         csat_created_at NULLS FIRST, csat_response_id NULLS FIRST
