-- The base tables source_base_tables.sql reads that this session's role may not SELECT
-- (or that do not exist): any row here means the extract reads the view instead.
SELECT name
FROM unnest(%(tables)s::text[]) AS t(name)
WHERE to_regclass(name) IS NULL
   OR NOT has_table_privilege(to_regclass(name), 'SELECT')
ORDER BY name;
