-- Lists at scale: a narrow heap for counts and filters, and indexes for keyset pages.

-- A row carries its rendered body, conditions, adapters summary and spec (about 2.4 KB at two
-- adapter reports), three rows to a heap page: a count over a label filter then reads most of
-- the table (254 ms at 100,000 clusters). PostgreSQL moves wide values out of line only once a
-- row passes 2 KB; from there, this target has it move them until the row is under 512 bytes,
-- about 17 rows a page, and the same count reads a fifth of the pages (31 ms). Labels stay in
-- line (MAIN): every label filter rechecks them row by row. The setting applies to rows as
-- they are next written; `VACUUM FULL resources` narrows all of them at once.
ALTER TABLE resources ALTER COLUMN labels SET STORAGE MAIN;
ALTER TABLE resources SET (toast_tuple_target = 512);

-- The default order (created_time desc, id desc) across every kind: /resources without `kind`.
CREATE INDEX resources_created_idx ON resources (created_time DESC, id DESC);

-- order=updated_time pages by (updated_time, id): the tiebreaker belongs in the index.
DROP INDEX resources_kind_updated_idx;
CREATE INDEX resources_kind_updated_idx ON resources (kind, updated_time, id);
