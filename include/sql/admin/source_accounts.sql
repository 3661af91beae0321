SELECT id AS account_id, name FROM accounts ORDER BY id;
