-- A run's row in the run log (naive timestamps: UTC, the ETL's session zone).
INSERT INTO etl_control (tenant_id, execution_id, load_type, is_full_load, status, triggered_by, triggered_by_detail,
                         watermark_start, watermark_end,
                         records_extracted, records_inserted, records_updated, records_failed,
                         source_system, target_table, etl_version, lead_rules_version)
VALUES (%(tenant_id)s, %(execution_id)s, %(load_type)s, %(is_full_load)s, 'running', %(triggered_by)s, %(detail)s,
        %(watermark_start)s, %(watermark_start)s,
        0, 0, 0, 0,
        'chatwoot', 'conversations_analytics', %(etl_version)s, %(lead_rules_version)s);
