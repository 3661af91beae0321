-- The details of the latest alert of a kind (tenant NULL = not about one tenant): to page once per
-- distinct situation instead of at every run.
SELECT details
FROM etl_alerts
WHERE kind = %(kind)s AND tenant_id IS NOT DISTINCT FROM %(tenant_id)s
ORDER BY raised_at DESC
LIMIT 1;
