SELECT pg_try_advisory_lock(%(namespace)s, %(key)s);
