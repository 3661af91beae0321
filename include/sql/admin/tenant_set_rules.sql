-- Set a tenant's lead pack and override; the previous ones are read from the locked row.
WITH old AS (
    SELECT id, lead_pack, lead_rules FROM tenants WHERE id = %(id)s AND deleted_at IS NULL FOR UPDATE
)
UPDATE tenants AS t
SET lead_pack = %(pack)s, lead_rules = %(override)s
FROM old
WHERE t.id = old.id
RETURNING t.id, t.slug, old.lead_pack AS old_pack, old.lead_rules AS old_override,
          t.lead_pack AS pack, t.lead_rules AS override,
          (SELECT count(*) FROM conversations_analytics AS c WHERE c.tenant_id = t.id) AS stored_rows;
