# The project's Airflow image: Apache Airflow 3.3.2 on Python 3.11, with requirements.txt installed
# at build time (pinned by constraints.txt, the full resolved lock), the chatwoot_etl package
# (plugins/, installed so the `chatwoot-etl` CLI exists too), the DAG files (dags/) and the SQL
# (include/sql/), laid out under AIRFLOW_HOME=/opt/airflow as Airflow expects.
#
#   docker build -t chatwoot-etl-airflow:latest .        # or: docker compose build
#
# Connections and secrets are never baked in: they come from the environment (.env, see
# .env.example and docker-compose.yaml).
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

ENV CHATWOOT_ETL_HOME=/opt/airflow \
    AIRFLOW__CORE__LOAD_EXAMPLES=false

USER airflow
WORKDIR /opt/airflow

# Dependencies first, so this layer is reused while only the code changes. requirements.txt pins
# apache-airflow==3.3.2 itself, so pip never moves the image's Airflow to another version.
COPY --chown=airflow:0 requirements.txt constraints.txt /opt/airflow/project/
RUN pip install --no-cache-dir -r /opt/airflow/project/requirements.txt -c /opt/airflow/project/constraints.txt

# The project: the package under plugins/ (on Airflow's sys.path, and installed in place so the
# console script and plain `import chatwoot_etl` work in every process), DAG files and SQL.
COPY --chown=airflow:0 pyproject.toml /opt/airflow/pyproject.toml
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 include/ /opt/airflow/include/
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
RUN pip install --no-cache-dir --no-deps -e /opt/airflow \
    && python -c "import chatwoot_etl.paths as p; assert (p.SQL_DIR / 'analytics').is_dir(), p.SQL_DIR" \
    && chatwoot-etl --help > /dev/null
