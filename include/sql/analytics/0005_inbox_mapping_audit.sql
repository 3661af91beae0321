-- Who changed which inbox mapping, when, from which tenant to which (defect 8 of the old ETL:
-- inboxes moved between tenants silently). Written by a trigger, so every change is recorded,
-- whether it comes from `chatwoot-etl inboxes ...`, the demo registration or a hand-typed UPDATE.
--
-- The acting person is the transaction-local setting chatwoot_etl.actor (the CLI sets it from
-- --by or the OS user); a change made without it is attributed to the mapping's mapped_by
-- (inserts) or to the database role (updates, deletes).

CREATE TABLE IF NOT EXISTS inbox_mapping_audit (
    id              bigserial   PRIMARY KEY,
    changed_at      timestamptz NOT NULL DEFAULT now(),
    changed_by      text        NOT NULL,
    via             text,                                   -- the session's application_name
    action          text        NOT NULL CHECK (action IN ('map', 'remap', 'unmap', 'move', 'delete')),
    inbox_id        integer     NOT NULL,
    from_tenant_id  integer,
    to_tenant_id    integer,
    from_active     boolean,
    to_active       boolean,
    forced          boolean     NOT NULL DEFAULT false,     -- validation overridden with --force
    note            text
);
CREATE INDEX IF NOT EXISTS inbox_mapping_audit_inbox_idx ON inbox_mapping_audit (inbox_id, changed_at DESC);
CREATE INDEX IF NOT EXISTS inbox_mapping_audit_changed_idx ON inbox_mapping_audit (changed_at DESC);

CREATE OR REPLACE FUNCTION inbox_mapping_audit_record() RETURNS trigger
LANGUAGE plpgsql AS $$
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

DROP TRIGGER IF EXISTS inbox_tenant_mapping_audit ON inbox_tenant_mapping;
CREATE TRIGGER inbox_tenant_mapping_audit
    AFTER INSERT OR DELETE ON inbox_tenant_mapping
    FOR EACH ROW EXECUTE FUNCTION inbox_mapping_audit_record();
DROP TRIGGER IF EXISTS inbox_tenant_mapping_audit_update ON inbox_tenant_mapping;
CREATE TRIGGER inbox_tenant_mapping_audit_update
    AFTER UPDATE ON inbox_tenant_mapping
    FOR EACH ROW
    WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.is_active IS DISTINCT FROM NEW.is_active)
    EXECUTE FUNCTION inbox_mapping_audit_record();

-- The platform's admin tenant (0) sees every row and owns no inbox. NOT VALID: enforced for every
-- new or changed mapping without failing on rows an older system may have left.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'inbox_tenant_mapping_not_admin') THEN
        ALTER TABLE inbox_tenant_mapping
            ADD CONSTRAINT inbox_tenant_mapping_not_admin CHECK (tenant_id <> 0) NOT VALID;
    END IF;
END $$;

GRANT SELECT, INSERT ON inbox_mapping_audit TO etl_writer;
GRANT USAGE, SELECT ON SEQUENCE inbox_mapping_audit_id_seq TO etl_writer;
