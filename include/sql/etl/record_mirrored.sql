-- Remember the value the sync published to the Variable mirror (a later difference is an edit).
UPDATE etl_watermarks SET mirrored_value = %(value)s WHERE tenant_id = %(tenant_id)s;
