-- Adopt an existing tenant of a Chatwoot account: it keeps its name, slug, status and plan; the
-- ETL only sets the zone its calendar fields are computed in.
UPDATE tenants
SET timezone = %(timezone)s
WHERE id = %(id)s
RETURNING id, slug, name, account_id, status, plan, timezone, created_at;
