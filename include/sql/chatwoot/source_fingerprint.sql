-- md5 over every view row, in a stable order (a conversation with two CSAT answers has two
-- rows, told apart by csat_response_id), leaving out the columns that move with the clock.
SELECT md5(COALESCE(string_agg((to_jsonb(v) - %(skip)s::text[])::text, E'\n'
                               ORDER BY v.conversation_id, v.csat_response_id NULLS FIRST), ''))
FROM vw_conversations_analytics_final AS v
