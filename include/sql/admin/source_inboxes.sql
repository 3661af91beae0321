-- The source's inboxes of the given accounts (every account when NULL), with conversation counts.
SELECT i.id AS inbox_id, i.account_id, i.name, i.channel_type,
       coalesce(c.conversations, 0) AS conversations
FROM inboxes AS i
LEFT JOIN (
    SELECT inbox_id, count(*) AS conversations
    FROM conversations
    WHERE %(account_ids)s::integer[] IS NULL OR account_id = ANY(%(account_ids)s::integer[])
    GROUP BY inbox_id
) AS c ON c.inbox_id = i.id
WHERE %(account_ids)s::integer[] IS NULL OR i.account_id = ANY(%(account_ids)s::integer[])
ORDER BY i.account_id, i.id;
