-- The columns of the source view as the server describes them (name -> format_type).
SELECT a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type
FROM pg_attribute AS a
WHERE a.attrelid = to_regclass(%(relation)s)
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum;
