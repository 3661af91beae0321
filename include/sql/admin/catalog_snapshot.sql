-- Everything a migration may change in a schema, one (kind, name, definition) row per object:
-- what `migrate --plan` compares before and after.
WITH rels AS (
    SELECT c.oid, c.relname, c.relkind, c.relrowsecurity, c.relacl
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'S', 'v')
)
SELECT 'table' AS kind, relname::text AS name,
       CASE relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' ELSE 'table' END
       || CASE WHEN relrowsecurity THEN ', row-level security on' ELSE '' END AS definition
FROM rels
UNION ALL
SELECT 'column', r.relname || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
FROM rels AS r
JOIN pg_attribute AS a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE r.relkind IN ('r', 'p')
UNION ALL
SELECT 'index', r.relname || '.' || i.relname, pg_get_indexdef(i.oid)
FROM rels AS r
JOIN pg_index AS x ON x.indrelid = r.oid
JOIN pg_class AS i ON i.oid = x.indexrelid
UNION ALL
SELECT 'constraint', r.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
FROM rels AS r
JOIN pg_constraint AS k ON k.conrelid = r.oid
UNION ALL
SELECT 'trigger', r.relname || '.' || g.tgname, pg_get_triggerdef(g.oid)
FROM rels AS r
JOIN pg_trigger AS g ON g.tgrelid = r.oid AND NOT g.tgisinternal
UNION ALL
SELECT 'policy', p.tablename || '.' || p.policyname,
       p.cmd || ' TO ' || array_to_string(p.roles, ', ')
       || coalesce(' USING (' || p.qual || ')', '') || coalesce(' WITH CHECK (' || p.with_check || ')', '')
FROM pg_policies AS p
WHERE p.schemaname = %(schema)s
UNION ALL
SELECT 'grant', r.relname || ' to ' || coalesce(g.rolname, 'PUBLIC'),
       string_agg(acl.privilege_type, ', ' ORDER BY acl.privilege_type)
FROM rels AS r
CROSS JOIN LATERAL aclexplode(r.relacl) AS acl
LEFT JOIN pg_roles AS g ON g.oid = acl.grantee
GROUP BY r.relname, g.rolname
UNION ALL
SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       'returns ' || pg_get_function_result(p.oid)
       || CASE WHEN p.prosecdef THEN ', security definer' ELSE '' END
       || ', body md5 ' || md5(p.prosrc)
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'role', r.rolname,
       CASE WHEN r.rolcanlogin THEN 'login' ELSE 'no login' END
       || CASE WHEN r.rolbypassrls THEN ', bypasses row-level security' ELSE '' END
FROM pg_roles AS r
WHERE r.rolname = ANY(%(roles)s)
UNION ALL
SELECT 'grant', 'database ' || current_database() || ' to ' || coalesce(g.rolname, 'PUBLIC'),
       string_agg(acl.privilege_type, ', ' ORDER BY acl.privilege_type)
FROM pg_database AS d
CROSS JOIN LATERAL aclexplode(d.datacl) AS acl
LEFT JOIN pg_roles AS g ON g.oid = acl.grantee
WHERE d.datname = current_database()
GROUP BY g.rolname
UNION ALL
SELECT 'grant', 'schema ' || n.nspname || ' to ' || coalesce(g.rolname, 'PUBLIC'),
       string_agg(acl.privilege_type, ', ' ORDER BY acl.privilege_type)
FROM pg_namespace AS n
CROSS JOIN LATERAL aclexplode(n.nspacl) AS acl
LEFT JOIN pg_roles AS g ON g.oid = acl.grantee
WHERE n.nspname = %(schema)s
GROUP BY n.nspname, g.rolname;
