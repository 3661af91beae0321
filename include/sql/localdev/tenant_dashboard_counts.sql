-- What a tenant's dashboard shows at a glance.
SELECT tenant_id,
       count(*) AS conversations,
       count(*) FILTER (WHERE is_lead) AS leads,
       count(*) FILTER (WHERE visit_scheduled) AS visits,
       count(*) FILTER (WHERE crm_converted) AS converted
FROM conversations_analytics
GROUP BY tenant_id;
