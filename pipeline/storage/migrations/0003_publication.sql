-- Schema 3: the manifest of a published snapshot (see pipeline/storage/publish.py).
--
-- The live warehouse keeps this table empty: the publisher writes one row into each copy it
-- publishes (published/warehouse-<seq>.duckdb), with the row counts of the ledger and the cases
-- at that moment, so a reader can check that what it reads is one whole published state.
CREATE TABLE publication (
  seq INTEGER NOT NULL,
  published_at TIMESTAMP NOT NULL,
  schema_version INTEGER NOT NULL,
  submissions BIGINT NOT NULL,
  cases BIGINT NOT NULL,
  alerts BIGINT NOT NULL,
  writer VARCHAR NOT NULL
);
