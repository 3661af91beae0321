-- Which of the given inbox ids exist in the source, with their account.
SELECT id AS inbox_id, account_id, name, channel_type FROM inboxes WHERE id = ANY(%(inbox_ids)s::integer[]);
