-- Tenancy (docs/security.md#tenancy): each resource's tenant map, `{}` when created without
-- tenancy. Roots take the caller's map, children their parent's; a tenant caller sees only the
-- rows whose map equals its own.
ALTER TABLE resources ADD COLUMN tenancy jsonb NOT NULL DEFAULT '{}'::jsonb;

-- Bodies written before this migration lack the field, which the renderer writes last: append
-- it in place. That changes no resource, so it is no change a watcher should see.
ALTER TABLE resources DISABLE TRIGGER resources_change_feed_update;
UPDATE resources
    SET body = substring(body FROM 1 FOR length(body) - 1) || convert_to(',"tenancy":{}}', 'UTF8');
ALTER TABLE resources ENABLE TRIGGER resources_change_feed_update;

-- Names are unique per tenant: the same root name may exist once in each tenant. (Children are
-- unique per owner, and an owner has one tenant, so that index stays as it is.)
DROP INDEX resources_root_name_uq;
CREATE UNIQUE INDEX resources_root_name_uq ON resources (kind, name, tenancy)
    WHERE owner_id IS NULL AND deleted_time IS NULL;

-- The list orders of migrations 0001/0004 within one tenant. Partial: rows written without
-- tenancy (`{}`) are not in them, so they cost nothing while tenancy is off, and a tenant-scoped
-- query names the predicate (`tenancy <> '{}'`) for the planner to pick them.
CREATE INDEX resources_tenant_kind_created_idx
    ON resources (kind, tenancy, created_time DESC, id DESC) WHERE tenancy <> '{}'::jsonb;
CREATE INDEX resources_tenant_created_idx
    ON resources (tenancy, created_time DESC, id DESC) WHERE tenancy <> '{}'::jsonb;
CREATE INDEX resources_tenant_kind_updated_idx
    ON resources (kind, tenancy, updated_time, id) WHERE tenancy <> '{}'::jsonb;
