INSERT INTO tenants (name, slug, account_id, status, timezone)
VALUES (%(name)s, %(slug)s, %(account_id)s, %(status)s, %(timezone)s)
RETURNING id, slug, name, account_id, status, plan, timezone, created_at;
