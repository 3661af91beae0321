INSERT INTO etl_source_checks (view_fingerprint, equal, rows_compared, detail)
VALUES (%(fingerprint)s, %(equal)s, %(rows_compared)s, %(detail)s);
