-- The conversations the base-table query is compared on against the view: the most recently
-- updated ones (what incremental syncs read), some with CSAT answers (the duplicate-row quirk),
-- some without messages (the NULL aggregates) and some drawn at random from the whole history.
-- Base tables only: through indexes, and one pass over conversations' ids for the random ones.
-- Conversations with timestamps no real conversation has (year 1, infinity: rows the view may not
-- compute, see sync/poison.py) are left out: they prove nothing about equality.
WITH sane AS (
    SELECT id, updated_at FROM conversations
    WHERE created_at BETWEEN '1970-01-01' AND '2200-01-01'
      AND updated_at BETWEEN '1970-01-01' AND '2200-01-01'
)
SELECT id FROM (SELECT id FROM sane ORDER BY updated_at DESC, id DESC LIMIT %(recent)s) AS recent
UNION
SELECT id FROM (SELECT answer.conversation_id AS id FROM csat_survey_responses answer
                WHERE answer.conversation_id IN (SELECT id FROM sane)
                ORDER BY answer.id DESC LIMIT %(with_csat)s) AS answered
UNION
SELECT id FROM (SELECT sane.id FROM sane
                WHERE NOT EXISTS (SELECT 1 FROM messages msg WHERE msg.conversation_id = sane.id)
                ORDER BY sane.id DESC LIMIT %(without_messages)s) AS silent
UNION
SELECT id FROM (SELECT id FROM sane ORDER BY random() LIMIT %(random)s) AS drawn;
