-- One chunk of a tenant's stored conversations for re-classification, in conversation_id order
-- after the keyset position: what the lead rules read and what they wrote.
SELECT conversation_id, message_compiled, is_lead, visit_scheduled, crm_converted,
       ai_probability_label, ai_probability_score::integer AS ai_probability_score, lead_rules_version
FROM conversations_analytics
WHERE tenant_id = %(tenant_id)s AND conversation_id > %(after)s
ORDER BY conversation_id
LIMIT %(limit)s;
