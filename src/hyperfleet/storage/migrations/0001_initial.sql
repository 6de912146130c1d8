-- HyperFleet initial schema: one generic resources table for every entity kind, adapter
-- statuses in their own table, aggregated conditions in a side table for indexed search.

CREATE TABLE resources (
    id             uuid        PRIMARY KEY,
    kind           text        NOT NULL,
    name           text        NOT NULL,
    href           text        NOT NULL,
    owner_id       uuid        NULL REFERENCES resources (id),
    owner_kind     text        NULL,
    owner_href     text        NULL,
    spec           jsonb       NOT NULL,
    labels         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    generation     integer     NOT NULL DEFAULT 1,
    conditions     jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_time   timestamptz NOT NULL,
    updated_time   timestamptz NOT NULL,
    created_by     text        NOT NULL,
    updated_by     text        NOT NULL,
    deleted_time   timestamptz NULL,
    deleted_by     text        NULL,
    -- The resource's rendered JSON, rewritten in the same transaction as every write, so that
    -- GET and list stream stored bytes without parsing or re-serialising rows.
    body           bytea       NOT NULL
);

-- Names are unique among live resources: per kind for roots, per kind and owner for children.
CREATE UNIQUE INDEX resources_root_name_uq ON resources (kind, name)
    WHERE owner_id IS NULL AND deleted_time IS NULL;
CREATE UNIQUE INDEX resources_child_name_uq ON resources (kind, owner_id, name)
    WHERE owner_id IS NOT NULL AND deleted_time IS NULL;
-- Default list order (created_time desc) per kind, and per owner for nested lists.
CREATE INDEX resources_kind_created_idx ON resources (kind, created_time DESC, id DESC);
CREATE INDEX resources_owner_created_idx ON resources (owner_id, kind, created_time DESC, id DESC)
    WHERE owner_id IS NOT NULL;
CREATE INDEX resources_deleted_idx ON resources (kind, deleted_time) WHERE deleted_time IS NOT NULL;
CREATE INDEX resources_kind_updated_idx ON resources (kind, updated_time);
-- labels.<k> = 'v' compiles to labels @> {"k": "v"}, served by this index.
CREATE INDEX resources_labels_gin ON resources USING gin (labels jsonb_path_ops);
CREATE INDEX resources_spec_gin ON resources USING gin (spec jsonb_path_ops);

-- Aggregated conditions, one row per (resource, type): the search index for
-- status.conditions.<Type>[.<field>] (Sentinel polls these every few seconds).
CREATE TABLE resource_conditions (
    resource_id          uuid        NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    type                 text        NOT NULL,
    status               text        NOT NULL,
    reason               text        NULL,
    message              text        NULL,
    observed_generation  integer     NOT NULL,
    created_time         timestamptz NOT NULL,
    last_updated_time    timestamptz NOT NULL,
    last_transition_time timestamptz NOT NULL,
    PRIMARY KEY (resource_id, type)
);
CREATE INDEX resource_conditions_type_status_idx ON resource_conditions (type, status, resource_id);
CREATE INDEX resource_conditions_type_updated_idx
    ON resource_conditions (type, last_updated_time, resource_id);

-- The latest accepted report of each adapter for each resource.
CREATE TABLE adapter_statuses (
    resource_id         uuid        NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    adapter             text        NOT NULL,
    observed_generation integer     NOT NULL,
    conditions          jsonb       NOT NULL,
    data                jsonb       NULL,
    metadata            jsonb       NULL,
    created_time        timestamptz NOT NULL,
    last_report_time    timestamptz NOT NULL,
    PRIMARY KEY (resource_id, adapter)
);
