-- One inbox of the Chatwoot source, with its account.
SELECT i.id AS inbox_id, i.account_id, i.name, i.channel_type
FROM inboxes AS i
WHERE i.id = %(inbox_id)s;
