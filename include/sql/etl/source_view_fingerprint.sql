-- md5 of the definitions of the view and of every view it is built on (recursively), so a
-- change to any of the deployed modular views is a new fingerprint, hence a new equality check.
WITH RECURSIVE parts(oid) AS (
    SELECT to_regclass(%(view)s)::oid
    UNION
    SELECT dep.refobjid
    FROM parts
    JOIN pg_rewrite rule ON rule.ev_class = parts.oid
    JOIN pg_depend dep ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = rule.oid
                      AND dep.refclassid = 'pg_class'::regclass AND dep.refobjid <> parts.oid
)
SELECT md5(string_agg(cls.relname || E'\n' || pg_get_viewdef(cls.oid), E'\n' ORDER BY cls.relname))
FROM parts
JOIN pg_class cls ON cls.oid = parts.oid
WHERE cls.relkind IN ('v', 'm');
