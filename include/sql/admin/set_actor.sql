-- Who is making the change, for the audit trigger of inbox_tenant_mapping (transaction-local).
SELECT set_config('chatwoot_etl.actor', %(actor)s, true),
       set_config('chatwoot_etl.forced', %(forced)s, true),
       set_config('chatwoot_etl.note', %(note)s, true);
