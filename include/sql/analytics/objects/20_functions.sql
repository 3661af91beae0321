-- The session's tenant and user as the policies read them: the integer the client set with
-- set_config('app.current_tenant_id', ...), or -1 when unset or not an integer (which matches no
-- row). Created only when missing: an adopted database keeps its own definitions.
DO $$
BEGIN
    IF to_regprocedure('get_current_tenant_id()') IS NULL THEN
        CREATE FUNCTION get_current_tenant_id() RETURNS integer
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $fn$
        BEGIN
            RETURN coalesce(nullif(current_setting('app.current_tenant_id', true), '')::integer, -1);
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RETURN -1;
        END $fn$;
    END IF;
    IF to_regprocedure('get_current_user_id()') IS NULL THEN
        CREATE FUNCTION get_current_user_id() RETURNS integer
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $fn$
        BEGIN
            RETURN coalesce(nullif(current_setting('app.current_user_id', true), '')::integer, -1);
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RETURN -1;
        END $fn$;
    END IF;
END $$;

-- tenants.inbox_ids is what the dashboards read as "the tenant's inboxes": always the tenant's
-- active inboxes in inbox_tenant_mapping, whoever changes the mapping (the CLI, the dashboards, a
-- hand-typed statement), in the same transaction. SECURITY DEFINER: a role that may change the
-- mapping need not be able to update tenants.
CREATE OR REPLACE FUNCTION active_inbox_ids(tenant integer) RETURNS integer[]
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT coalesce(array_agg(inbox_id ORDER BY inbox_id), '{}')
    FROM inbox_tenant_mapping
    WHERE tenant_id = tenant AND is_active IS TRUE
$$;

CREATE OR REPLACE FUNCTION inbox_ids_follow_mapping() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    touched integer[] := CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.tenant_id]
                                    WHEN 'DELETE' THEN ARRAY[OLD.tenant_id]
                                    ELSE ARRAY[OLD.tenant_id, NEW.tenant_id] END;
BEGIN
    UPDATE tenants AS t
    SET inbox_ids = active_inbox_ids(t.id)
    WHERE t.id = ANY(touched)
      AND t.inbox_ids IS DISTINCT FROM active_inbox_ids(t.id);
    RETURN NULL;
END $$;

-- A hand-typed tenants.inbox_ids is replaced by the mapping's truth.
CREATE OR REPLACE FUNCTION inbox_ids_from_mapping() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    NEW.inbox_ids := active_inbox_ids(NEW.id);
    RETURN NEW;
END $$;

-- The mapping audit: the acting person is the transaction-local setting chatwoot_etl.actor (the CLI
-- sets it from --by or the OS user); a change made without it is attributed to the mapping's
-- mapped_by (inserts) or to the database role (updates, deletes).
CREATE OR REPLACE FUNCTION inbox_mapping_audit_record() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    actor  text := nullif(current_setting('chatwoot_etl.actor', true), '');
    forced boolean := coalesce(nullif(current_setting('chatwoot_etl.forced', true), '')::boolean, false);
    note   text := nullif(current_setting('chatwoot_etl.note', true), '');
    via    text := nullif(current_setting('application_name', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO inbox_mapping_audit (changed_by, via, action, inbox_id, to_tenant_id, to_active, forced, note)
        VALUES (coalesce(actor, NEW.mapped_by, session_user), via, 'map', NEW.inbox_id, NEW.tenant_id,
                NEW.is_active, forced, note);
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO inbox_mapping_audit (changed_by, via, action, inbox_id, from_tenant_id, to_tenant_id,
                                         from_active, to_active, forced, note)
        VALUES (coalesce(actor, session_user), via,
                CASE WHEN OLD.tenant_id IS DISTINCT FROM NEW.tenant_id THEN 'move'
                     WHEN NEW.is_active THEN 'remap'
                     ELSE 'unmap' END,
                NEW.inbox_id, OLD.tenant_id, NEW.tenant_id, OLD.is_active, NEW.is_active, forced, note);
        RETURN NEW;
    ELSE
        INSERT INTO inbox_mapping_audit (changed_by, via, action, inbox_id, from_tenant_id, from_active, forced, note)
        VALUES (coalesce(actor, session_user), via, 'delete', OLD.inbox_id, OLD.tenant_id, OLD.is_active, forced, note);
        RETURN OLD;
    END IF;
END $$;
