-- Every inbox of the local source with its account: the demo registers one tenant per account.
SELECT a.id AS account_id, a.name AS account_name, i.id AS inbox_id, i.name AS inbox_name, i.channel_type
FROM accounts AS a
JOIN inboxes AS i ON i.account_id = a.id
ORDER BY a.id, i.id
