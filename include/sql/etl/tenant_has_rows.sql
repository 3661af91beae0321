-- Whether the tenant has any row loaded (its first load can insert instead of upserting).
SELECT EXISTS (SELECT 1 FROM conversations_analytics WHERE tenant_id = %(tenant_id)s);
