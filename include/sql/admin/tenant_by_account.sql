SELECT id, slug, name, deleted_at FROM tenants WHERE account_id = %(account_id)s;
