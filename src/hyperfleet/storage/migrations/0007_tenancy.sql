-- Tenancy (docs/security.md#tenancy). `tenant` is the resource's tenancy map in its canonical
-- spelling `k=v,k=v` (sorted by key; '' for none): lossless, as keys and values are made of
-- `A-Z a-z 0-9 . _ -` only, and compared bytewise ("C"), which is several times cheaper than
-- jsonb equality in the index scans that scope every tenant's list. Roots take the caller's
-- map, children their parent's; a tenant caller sees only the rows of exactly its own.
ALTER TABLE resources ADD COLUMN tenant text COLLATE "C" NOT NULL DEFAULT '';

-- Bodies written before this migration lack `tenancy`, which the renderer writes last: append
-- it in place. That changes no resource, so it is no change a watcher should see.
ALTER TABLE resources DISABLE TRIGGER resources_change_feed_update;
UPDATE resources
    SET body = substring(body FROM 1 FOR length(body) - 1) || convert_to(',"tenancy":{}}', 'UTF8');
ALTER TABLE resources ENABLE TRIGGER resources_change_feed_update;

-- Names are unique per tenant: the same root name may exist once in each tenant. (Children are
-- unique per owner, and an owner has one tenant, so that index stays as it is.)
DROP INDEX resources_root_name_uq;
CREATE UNIQUE INDEX resources_root_name_uq ON resources (kind, name, tenant)
    WHERE owner_id IS NULL AND deleted_time IS NULL;

-- The list orders of migrations 0001/0004 within one tenant. Partial: rows written without
-- tenancy ('') are not in them, so they cost nothing while tenancy is off, and a tenant-scoped
-- query names the predicate (`tenant <> ''`) for the planner to pick them.
CREATE INDEX resources_tenant_kind_created_idx
    ON resources (kind, tenant, created_time DESC, id DESC) WHERE tenant <> '';
CREATE INDEX resources_tenant_created_idx
    ON resources (tenant, created_time DESC, id DESC) WHERE tenant <> '';
CREATE INDEX resources_tenant_kind_updated_idx
    ON resources (kind, tenant, updated_time, id) WHERE tenant <> '';
-- A tenant's count (every list's `total`) reads this narrow one alone, as an untenanted count
-- reads the (kind, phase) index: the wide ones above made it four times slower.
CREATE INDEX resources_tenant_kind_idx ON resources (kind, tenant) WHERE tenant <> '';
