-- Who changed which inbox mapping, when, from which tenant to which (written by a trigger, so
-- every change is recorded: CLI, demo registration, dashboards or a hand-typed UPDATE).
CREATE TABLE inbox_mapping_audit (
    id              bigserial   PRIMARY KEY,
    changed_at      timestamptz NOT NULL DEFAULT now(),
    changed_by      text        NOT NULL,
    via             text,                                   -- the session's application_name
    action          text        NOT NULL CHECK (action IN ('map', 'remap', 'unmap', 'move', 'delete')),
    inbox_id        integer     NOT NULL,
    from_tenant_id  integer,
    to_tenant_id    integer,
    from_active     boolean,
    to_active       boolean,
    forced          boolean     NOT NULL DEFAULT false,     -- validation overridden with --force
    note            text
);
CREATE INDEX inbox_mapping_audit_inbox_idx ON inbox_mapping_audit (inbox_id, changed_at DESC);
CREATE INDEX inbox_mapping_audit_changed_idx ON inbox_mapping_audit (changed_at DESC);
