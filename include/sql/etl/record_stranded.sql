UPDATE etl_control SET stranded_rows = %(stranded)s WHERE execution_id = %(execution_id)s;
