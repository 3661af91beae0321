-- One stored conversation of a tenant, as `leads explain` reads it: what the rules read and wrote.
SELECT message_compiled, lead_rules_version, is_lead, visit_scheduled, crm_converted
FROM conversations_analytics
WHERE tenant_id = %(tenant_id)s AND conversation_id = %(conversation_id)s;
