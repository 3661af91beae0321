-- The demo tenant of a source account: the account's existing tenant (adopted, whatever its slug,
-- keeping its lead pack), or a new one with the pack of the account's business. Inserting only when missing keeps tenant ids dense (a conflicting INSERT would still
-- consume a sequence value).
WITH existing AS (
    SELECT id FROM tenants WHERE account_id = %(account_id)s OR slug = %(slug)s
    ORDER BY (account_id = %(account_id)s) IS TRUE DESC
    LIMIT 1
), created AS (
    INSERT INTO tenants (name, slug, account_id, status, lead_pack)
    SELECT %(name)s, %(slug)s, %(account_id)s, 'active', %(lead_pack)s
    WHERE NOT EXISTS (SELECT 1 FROM existing)
    RETURNING id
)
SELECT id FROM existing
UNION ALL
SELECT id FROM created;
