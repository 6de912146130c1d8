-- Post-MVP status engine: stored phase with its transition time, the adapters summary, and
-- phase history. Rows written before this migration have phase NULL until their next write
-- or the start-up re-aggregation.

ALTER TABLE resources
    ADD COLUMN phase                      text        NULL,
    ADD COLUMN phase_reason               text        NULL,
    ADD COLUMN phase_message              text        NULL,
    ADD COLUMN last_phase_transition_time timestamptz NULL,
    ADD COLUMN adapters                   jsonb       NOT NULL DEFAULT '[]'::jsonb;

CREATE INDEX resources_kind_phase_idx ON resources (kind, phase);
CREATE INDEX resources_phase_pending_idx ON resources (kind, id) WHERE phase IS NULL;

CREATE TABLE phase_history (
    id          bigserial   PRIMARY KEY,
    resource_id uuid        NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    from_phase  text        NULL,
    to_phase    text        NOT NULL,
    generation  integer     NOT NULL,
    reason      text        NOT NULL,
    message     text        NOT NULL,
    time        timestamptz NOT NULL
);
-- Newest first per resource.
CREATE INDEX phase_history_resource_idx ON phase_history (resource_id, id DESC);
