-- Schema 8: intake hardening (issue 16) and the received time (issue 15).
--
-- submissions.arrival_source: where the received time comes from (pipeline/intake/arrivals.py):
-- 'api' (recorded at upload), 'manifest' (an imported list of arrivals), 'scan' (first seen in
-- the landing zone by ingest), 'cli'; NULL for submissions loaded before this schema, whose
-- received time was the file's modification time.
ALTER TABLE submissions ADD COLUMN arrival_source VARCHAR;

-- The fingerprint of the pseudonym key the warehouse's pseudonyms were made with (an HMAC of a
-- fixed label under the key, never the key: pipeline/config.py key_fingerprint). Written by
-- the first ingest; every later ingest and dry run with another key stops with exit code 8.
CREATE TABLE pseudonym_key (
  fingerprint VARCHAR NOT NULL,
  recorded_at TIMESTAMP NOT NULL
);
