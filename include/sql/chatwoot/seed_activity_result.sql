-- What seed_activity.sql just did (read from its temp tables, in the same transaction).
SELECT (SELECT count(*) FROM act_touch)::integer                                AS touched_conversations,
       (SELECT count(*) FROM act_messages)::integer                             AS messages_added,
       (SELECT count(*) FROM act_touch WHERE new_status IS DISTINCT FROM status)::integer AS status_changes,
       (SELECT count(*) FROM act_new)::integer                                  AS new_conversations,
       (SELECT at FROM act_params)                                              AS at
