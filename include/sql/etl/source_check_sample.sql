-- The conversations the base-table query is compared on against the view: the most recently
-- updated ones (what incremental syncs read), some with CSAT answers (the duplicate-row quirk),
-- some without messages (the NULL aggregates) and some drawn at random from the whole history.
-- Base tables only: through indexes, and one pass over conversations' ids for the random ones.
SELECT id FROM (SELECT id FROM conversations ORDER BY updated_at DESC, id DESC LIMIT %(recent)s) AS recent
UNION
SELECT conversation_id FROM (SELECT conversation_id FROM csat_survey_responses
                             ORDER BY id DESC LIMIT %(with_csat)s) AS answered
UNION
SELECT id FROM (SELECT conv.id FROM conversations conv
                WHERE NOT EXISTS (SELECT 1 FROM messages msg WHERE msg.conversation_id = conv.id)
                ORDER BY conv.id DESC LIMIT %(without_messages)s) AS silent
UNION
SELECT id FROM (SELECT id FROM conversations ORDER BY random() LIMIT %(random)s) AS drawn;
