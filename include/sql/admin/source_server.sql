SELECT current_database() AS database,
       current_setting('server_version') AS server_version,
       current_user AS role,
       (now() AT TIME ZONE 'UTC')::timestamp AS clock_utc;
