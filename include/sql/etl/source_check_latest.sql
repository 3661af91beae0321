-- The newest equality check of the base-table query against the view definition `fingerprint`,
-- if it is younger than max_age_seconds.
SELECT equal, rows_compared, detail, checked_at
FROM etl_source_checks
WHERE view_fingerprint = %(fingerprint)s
  AND checked_at > now() - make_interval(secs => %(max_age_seconds)s)
ORDER BY checked_at DESC
LIMIT 1;
