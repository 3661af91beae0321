-- The demo tenant of a source account: the existing one, or a new one. Inserting only when
-- missing keeps tenant ids dense (a conflicting INSERT would still consume a sequence value).
WITH existing AS (
    SELECT id FROM tenants WHERE slug = %(slug)s
), created AS (
    INSERT INTO tenants (name, slug, account_id, status)
    SELECT %(name)s, %(slug)s, %(account_id)s, 'active'
    WHERE NOT EXISTS (SELECT 1 FROM existing)
    RETURNING id
)
SELECT id FROM existing
UNION ALL
SELECT id FROM created;
