-- What this session's role could change on the source, although the ETL only reads: every
-- capability that is true here is a privilege the read-only role should not have.
SELECT
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)                AS superuser,
    has_database_privilege(current_database(), 'CREATE')                        AS create_schemas,
    has_database_privilege(current_database(), 'TEMPORARY')                     AS temporary_tables,
    COALESCE((SELECT bool_or(has_schema_privilege(nsp.oid, 'CREATE'))
              FROM pg_namespace nsp
              WHERE nsp.nspname NOT LIKE 'pg\_%' AND nsp.nspname <> 'information_schema'), false)
                                                                                AS create_tables,
    has_function_privilege('pg_catalog.lo_create(oid)', 'EXECUTE')              AS large_objects,
    COALESCE((SELECT array_agg(cls.relname::text ORDER BY cls.relname)
              FROM pg_class cls
              JOIN pg_namespace nsp ON nsp.oid = cls.relnamespace
              WHERE cls.relkind IN ('r', 'p')
                AND nsp.nspname NOT LIKE 'pg\_%' AND nsp.nspname <> 'information_schema'
                AND (has_table_privilege(cls.oid, 'INSERT') OR has_table_privilege(cls.oid, 'UPDATE')
                     OR has_table_privilege(cls.oid, 'DELETE') OR has_table_privilege(cls.oid, 'TRUNCATE'))),
             '{}')                                                              AS writable_tables;
