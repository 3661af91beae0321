INSERT INTO tenants (name, slug, account_id, status)
VALUES (%(name)s, %(slug)s, %(account_id)s, 'active')
ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name
RETURNING id;
