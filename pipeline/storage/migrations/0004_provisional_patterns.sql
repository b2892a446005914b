-- Schema 4: provisional pattern membership of cases waiting for a coder (issue 20, item 7).
--
-- Owner: clustering (pipeline/clustering/provisional.py). Every pattern refresh replaces the
-- rows: each review-pending case placed in the most similar pattern of its top suggestion.
-- Provisional members are shown (flagged) and never counted: statistics, detection and purity
-- read case_patterns / coded_cases only.
CREATE TABLE provisional_patterns (
  hospital_code VARCHAR NOT NULL,
  case_id VARCHAR NOT NULL,
  case_version INTEGER NOT NULL,
  suggested_category VARCHAR NOT NULL,
  pattern_id VARCHAR NOT NULL,
  similarity DOUBLE NOT NULL,
  reason VARCHAR NOT NULL,
  refresh_seq INTEGER NOT NULL,
  PRIMARY KEY (hospital_code, case_id)
);

-- What pattern pages, reports and evidence packs read to show members with their flag.
CREATE VIEW case_patterns_all AS
SELECT hospital_code, case_id, pattern_id, category_code, similarity, refresh_seq,
       false AS provisional, NULL::VARCHAR AS review_reason
FROM case_patterns
UNION ALL
SELECT hospital_code, case_id, pattern_id, suggested_category AS category_code, similarity,
       refresh_seq, true AS provisional, reason AS review_reason
FROM provisional_patterns;
