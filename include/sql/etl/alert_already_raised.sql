-- Whether the latest alert of this kind for this tenant (NULL = not about one tenant) reported the
-- same situation (its fingerprint), within the period (NULL = ever): page once per situation.
SELECT coalesce((
    SELECT a.details ->> 'fingerprint' = %(fingerprint)s
           AND (%(within)s::interval IS NULL OR a.raised_at > now() - %(within)s::interval)
    FROM etl_alerts AS a
    WHERE a.kind = %(kind)s AND a.tenant_id IS NOT DISTINCT FROM %(tenant_id)s
    ORDER BY a.raised_at DESC
    LIMIT 1
), false);
