-- The change feed behind `?watch=true` (docs/watch.md): one row per change to `resources`,
-- written by a trigger inside the writing transaction, so no write path has to know about it.
-- Bodies are the stored rendered bytes (bytea), copied without parsing: the feed splices them
-- into events as they are.

CREATE SEQUENCE resource_changes_seq AS bigint;

CREATE TABLE resource_changes (
    -- Taken when the row is written, not at commit: readers only read up to a horizon below
    -- which every transaction that took a number has ended (storage/change_feed.py).
    seq         bigint      PRIMARY KEY DEFAULT nextval('resource_changes_seq'),
    txid        xid8        NOT NULL DEFAULT pg_current_xact_id(),
    changed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    op          text        NOT NULL CHECK (op IN ('ADDED', 'MODIFIED', 'DELETED')),
    kind        text        NOT NULL,
    resource_id uuid        NOT NULL,
    owner_id    uuid        NULL,
    old_body    bytea       NULL,
    new_body    bytea       NULL
);
ALTER SEQUENCE resource_changes_seq OWNED BY resource_changes.seq;

-- Everything at or below `pruned_through` may be gone: a resume from there must re-list.
CREATE TABLE change_feed_state (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pruned_through bigint  NOT NULL DEFAULT 0
);
INSERT INTO change_feed_state DEFAULT VALUES;

CREATE FUNCTION record_resource_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO resource_changes (op, kind, resource_id, owner_id, new_body)
        VALUES ('ADDED', NEW.kind, NEW.id, NEW.owner_id, NEW.body);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO resource_changes (op, kind, resource_id, owner_id, old_body, new_body)
        VALUES ('MODIFIED', NEW.kind, NEW.id, NEW.owner_id, OLD.body, NEW.body);
    ELSE
        INSERT INTO resource_changes (op, kind, resource_id, owner_id, old_body)
        VALUES ('DELETED', OLD.kind, OLD.id, OLD.owner_id, OLD.body);
    END IF;
    -- Delivered at commit; PostgreSQL folds identical notifications of one transaction.
    PERFORM pg_notify('hyperfleet_changes', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER resources_change_feed AFTER INSERT OR DELETE ON resources
    FOR EACH ROW EXECUTE FUNCTION record_resource_change();
-- A write that leaves the rendered body as it was is no change a watcher could see.
CREATE TRIGGER resources_change_feed_update AFTER UPDATE ON resources
    FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body)
    EXECUTE FUNCTION record_resource_change();
