-- Equality checks of the ETL's base-table query against the deployed view, per definition of the
-- view (the md5 of it and the views it is built on): a sync reads the base tables only while a
-- recent check of the current definition found them equal (chatwoot_etl.sync.strategy).
CREATE TABLE etl_source_checks (
    id                bigserial   PRIMARY KEY,
    view_fingerprint  text        NOT NULL,
    checked_at        timestamptz NOT NULL DEFAULT now(),
    equal             boolean     NOT NULL,
    rows_compared     integer     NOT NULL,
    detail            text
);
CREATE INDEX etl_source_checks_fingerprint_idx ON etl_source_checks (view_fingerprint, checked_at DESC);
