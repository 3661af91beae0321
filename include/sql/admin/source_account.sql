SELECT id AS account_id, name FROM accounts WHERE id = %(account_id)s;
