-- Bring tenants.inbox_ids in line with the active mappings (the rule the triggers keep from now
-- on); the tenants whose value changed, before and after.
WITH drifted AS (
    SELECT t.id, t.inbox_ids AS before
    FROM tenants AS t
    WHERE t.inbox_ids IS DISTINCT FROM active_inbox_ids(t.id)
)
UPDATE tenants AS t
SET inbox_ids = active_inbox_ids(t.id)
FROM drifted AS d
WHERE t.id = d.id
RETURNING t.id, t.slug, d.before, t.inbox_ids AS after;
