-- Whether this kind of alert was already raised for the tenant recently (no paging every 15 minutes).
SELECT EXISTS (
    SELECT 1 FROM etl_alerts
    WHERE tenant_id = %(tenant_id)s AND kind = %(kind)s AND raised_at > now() - %(within)s
);
