-- Every tenant (not deleted) with its plan, its inboxes and its conversation count against the plan.
SELECT t.id, t.slug, t.name, t.account_id, t.status, t.plan, t.timezone, coalesce(t.lead_pack, 'generic') AS lead_pack,
       t.lead_rules IS NOT NULL AS lead_override, t.sync_schedule, t.inbox_ids,
       count(m.inbox_id) FILTER (WHERE m.is_active) AS active_inboxes,
       count(m.inbox_id) FILTER (WHERE m.is_active IS NOT TRUE) AS inactive_inboxes,
       t.max_inboxes,
       (SELECT count(*) FROM conversations_analytics AS c WHERE c.tenant_id = t.id) AS conversations,
       t.max_conversations,
       t.created_at
FROM tenants AS t
LEFT JOIN inbox_tenant_mapping AS m ON m.tenant_id = t.id
WHERE t.deleted_at IS NULL
GROUP BY t.id
ORDER BY t.id;
