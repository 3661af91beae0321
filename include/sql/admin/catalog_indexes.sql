-- The indexes of a schema's tables, with their definitions.
SELECT t.relname AS table_name,
       i.relname AS index_name,
       pg_get_indexdef(i.oid) AS definition
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = %(schema)s
ORDER BY t.relname, i.relname;
