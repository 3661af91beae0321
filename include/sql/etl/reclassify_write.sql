-- The recomputed lead columns of the rows that differ, with the rules version that produced them
-- (one array per column, one element per conversation). etl_updated_at follows by its trigger.
UPDATE conversations_analytics AS t
SET is_lead = n.is_lead, visit_scheduled = n.visit_scheduled, crm_converted = n.crm_converted,
    ai_probability_label = n.label, ai_probability_score = n.score, lead_rules_version = %(version)s
FROM unnest(%(ids)s::integer[], %(is_lead)s::boolean[], %(visit)s::boolean[], %(converted)s::boolean[],
            %(labels)s::text[], %(scores)s::integer[])
     AS n (conversation_id, is_lead, visit_scheduled, crm_converted, label, score)
WHERE t.tenant_id = %(tenant_id)s AND t.conversation_id = n.conversation_id;
