SELECT id, slug FROM tenants WHERE account_id = %(account_id)s;
