-- The read-only role the ETL connects as (conn id chatwoot_source).
-- Roles are cluster-wide, so several databases on one server (tests, demo) share this role and
-- several sessions may apply this file at the same time: both can see the role "missing" and
-- race on CREATE ROLE, or race on ALTER ROLE ("tuple concurrently updated"). Hence check first
-- and tolerate losing the race, instead of plain statements.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chatwoot_reader') THEN
        BEGIN
            CREATE ROLE chatwoot_reader LOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created concurrently by another session: that is what we wanted
        END;
    END IF;

    -- Belt and braces on top of SELECT-only grants: every transaction of this role is
    -- read-only, so even a mistaken grant cannot let the ETL write to the source.
    IF NOT EXISTS (
        SELECT 1
        FROM pg_db_role_setting s
        JOIN pg_roles r ON r.oid = s.setrole
        WHERE r.rolname = 'chatwoot_reader'
          AND s.setdatabase = 0
          AND 'default_transaction_read_only=on' = ANY (s.setconfig)
    ) THEN
        BEGIN
            ALTER ROLE chatwoot_reader SET default_transaction_read_only = on;
        EXCEPTION
            -- A concurrent ALTER ROLE of the same role fails with "tuple concurrently
            -- updated" (XX000); the other session is setting the same value.
            WHEN unique_violation OR SQLSTATE 'XX000' THEN
                NULL;
        END;
    END IF;
END
$$;
