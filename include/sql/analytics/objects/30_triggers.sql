-- The ETL's triggers; they run next to any trigger the database already has.

CREATE OR REPLACE TRIGGER tenants_inbox_ids_from_mapping
    BEFORE INSERT OR UPDATE OF inbox_ids ON tenants
    FOR EACH ROW EXECUTE FUNCTION inbox_ids_from_mapping();

CREATE OR REPLACE TRIGGER inbox_tenant_mapping_inbox_ids
    AFTER INSERT OR UPDATE OR DELETE ON inbox_tenant_mapping
    FOR EACH ROW EXECUTE FUNCTION inbox_ids_follow_mapping();

CREATE OR REPLACE TRIGGER inbox_tenant_mapping_audit
    AFTER INSERT OR DELETE ON inbox_tenant_mapping
    FOR EACH ROW EXECUTE FUNCTION inbox_mapping_audit_record();

CREATE OR REPLACE TRIGGER inbox_tenant_mapping_audit_update
    AFTER UPDATE ON inbox_tenant_mapping
    FOR EACH ROW
    WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.is_active IS DISTINCT FROM NEW.is_active)
    EXECUTE FUNCTION inbox_mapping_audit_record();
