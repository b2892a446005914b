-- Schema 1: the warehouse as it was before schema versioning (main at 0caf446).
-- Every statement is idempotent (IF NOT EXISTS / OR REPLACE) so that a warehouse created by that
-- code, which has some of these tables but no schema_version, is adopted as version 1: missing
-- tables are created, existing ones are kept, and the runner then checks that every table has
-- exactly the columns below (a table of another shape stops the upgrade).

-- Intake (ledger, versions, current cases, quarantine): written by pipeline.storage.ledger.
CREATE TABLE IF NOT EXISTS submissions (
  submission_id VARCHAR PRIMARY KEY,
  hospital_code VARCHAR NOT NULL,
  file_name VARCHAR NOT NULL,
  sha256 VARCHAR NOT NULL,
  size_bytes BIGINT NOT NULL,
  received_at TIMESTAMP NOT NULL,
  processed_at TIMESTAMP NOT NULL,
  file_format VARCHAR,
  encoding VARCHAR,
  header_language VARCHAR,
  status VARCHAR NOT NULL,
  rows_received INTEGER NOT NULL,
  rows_stored INTEGER NOT NULL,
  rows_quarantined INTEGER NOT NULL,
  rows_duplicate INTEGER NOT NULL,
  file_rule VARCHAR,
  file_message VARCHAR,
  file_detail VARCHAR,
  duplicate_of VARCHAR,
  unknown_columns VARCHAR
);
CREATE TABLE IF NOT EXISTS submission_events (
  submission_id VARCHAR NOT NULL,
  seq INTEGER NOT NULL,
  status VARCHAR NOT NULL,
  event_at TIMESTAMP NOT NULL,
  detail VARCHAR
);
CREATE TABLE IF NOT EXISTS case_versions (
  hospital_code VARCHAR NOT NULL,
  case_id VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  content_hash VARCHAR NOT NULL,
  submission_id VARCHAR NOT NULL,
  source_row INTEGER NOT NULL,
  received_at TIMESTAMP NOT NULL,
  visit_week VARCHAR NOT NULL,
  report_type VARCHAR,
  visit_datetime TIMESTAMP,
  injury_datetime TIMESTAMP,
  sex VARCHAR,
  age DOUBLE,
  age_unit VARCHAR,
  residence_region VARCHAR,
  cause VARCHAR,
  place VARCHAR,
  activity VARCHAR,
  intent VARCHAR,
  injury_nature VARCHAR,
  body_region VARCHAR,
  severity VARCHAR,
  outcome VARCHAR,
  product_name VARCHAR,
  product_category VARCHAR,
  brand VARCHAR,
  model VARCHAR,
  batch VARCHAR,
  barcode VARCHAR,
  product_relation VARCHAR,
  narrative VARCHAR,
  patient_name VARCHAR,
  patient_id_number VARCHAR,
  patient_phone VARCHAR,
  PRIMARY KEY (hospital_code, case_id, version)
);
CREATE TABLE IF NOT EXISTS cases (
  hospital_code VARCHAR NOT NULL,
  case_id VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  status VARCHAR NOT NULL,
  content_hash VARCHAR NOT NULL,
  submission_id VARCHAR NOT NULL,
  source_row INTEGER NOT NULL,
  received_at TIMESTAMP NOT NULL,
  visit_week VARCHAR NOT NULL,
  report_type VARCHAR,
  visit_datetime TIMESTAMP,
  injury_datetime TIMESTAMP,
  sex VARCHAR,
  age DOUBLE,
  age_unit VARCHAR,
  residence_region VARCHAR,
  cause VARCHAR,
  place VARCHAR,
  activity VARCHAR,
  intent VARCHAR,
  injury_nature VARCHAR,
  body_region VARCHAR,
  severity VARCHAR,
  outcome VARCHAR,
  product_name VARCHAR,
  product_category VARCHAR,
  brand VARCHAR,
  model VARCHAR,
  batch VARCHAR,
  barcode VARCHAR,
  product_relation VARCHAR,
  narrative VARCHAR,
  patient_name VARCHAR,
  patient_id_number VARCHAR,
  patient_phone VARCHAR,
  PRIMARY KEY (hospital_code, case_id)
);
CREATE TABLE IF NOT EXISTS quarantine (
  submission_id VARCHAR NOT NULL,
  hospital_code VARCHAR NOT NULL,
  source_row INTEGER NOT NULL,
  case_id VARCHAR,
  field VARCHAR NOT NULL,
  value VARCHAR,
  rule VARCHAR NOT NULL,
  message_en VARCHAR NOT NULL,
  message_zh VARCHAR NOT NULL,
  row_json VARCHAR NOT NULL
);

-- Reference tables: a copy of the versioned CSV files (pipeline/reference/data, or the
-- registry named by SENTINEL_HOSPITAL_REGISTRY), refreshed by every load; text throughout.
CREATE TABLE IF NOT EXISTS ref_taxonomy (
  category_code VARCHAR, family_code VARCHAR, family_en VARCHAR, family_zh VARCHAR,
  name_en VARCHAR, name_zh VARCHAR, priority VARCHAR, valid_from VARCHAR, valid_to VARCHAR,
  description_en VARCHAR
);
CREATE TABLE IF NOT EXISTS ref_codesets (
  codeset VARCHAR, code VARCHAR, label_en VARCHAR, label_zh VARCHAR, sort_order VARCHAR,
  iceci_note VARCHAR
);
CREATE TABLE IF NOT EXISTS ref_hospitals (
  hospital_code VARCHAR, name_zh VARCHAR, name_en VARCHAR, hospital_type VARCHAR,
  city_zh VARCHAR, city_en VARCHAR, region_code VARCHAR, active_from VARCHAR, active_to VARCHAR,
  is_test VARCHAR, daily_volume VARCHAR
);

-- Product coding: written by pipeline.coding.store.
CREATE TABLE IF NOT EXISTS case_coding (
  hospital_code VARCHAR NOT NULL,
  case_id VARCHAR NOT NULL,
  case_version INTEGER NOT NULL,
  category_code VARCHAR,
  product_involved BOOLEAN NOT NULL,
  source VARCHAR NOT NULL,
  model_name VARCHAR NOT NULL,
  model_version VARCHAR NOT NULL,
  probability DOUBLE,
  runner_up VARCHAR,
  runner_up_probability DOUBLE,
  model_category VARCHAR,
  needs_review BOOLEAN NOT NULL,
  reason VARCHAR NOT NULL,
  input_hash VARCHAR NOT NULL,
  coded_at TIMESTAMP NOT NULL,
  PRIMARY KEY (hospital_code, case_id)
);
CREATE TABLE IF NOT EXISTS coding_review (
  review_id VARCHAR PRIMARY KEY,
  hospital_code VARCHAR NOT NULL,
  case_id VARCHAR NOT NULL,
  case_version INTEGER NOT NULL,
  input_hash VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,
  hospital_category VARCHAR,
  suggested_category VARCHAR,
  probability DOUBLE,
  runner_up VARCHAR,
  runner_up_probability DOUBLE,
  model_name VARCHAR NOT NULL,
  model_version VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  opened_at TIMESTAMP NOT NULL,
  resolution VARCHAR,
  resolved_by VARCHAR,
  resolved_at TIMESTAMP,
  note VARCHAR
);
-- Statistics read final codings only: active cases whose coding is not waiting for a coder.
CREATE OR REPLACE VIEW coded_cases AS
SELECT c.*, k.category_code, k.product_involved, k.source AS coding_source,
       k.model_name AS coding_model_name, k.model_version AS coding_model_version,
       k.probability AS coding_probability
FROM cases c
JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
     AND k.case_version = c.version
WHERE c.status = 'active' AND NOT k.needs_review;

-- Hazard patterns: written by pipeline.clustering.patterns.
CREATE TABLE IF NOT EXISTS hazard_patterns (
  pattern_id VARCHAR PRIMARY KEY,
  category_code VARCHAR NOT NULL,
  label_en VARCHAR NOT NULL,
  label_zh VARCHAR NOT NULL,
  top_terms VARCHAR NOT NULL,
  dominant_cause VARCHAR,
  dominant_injury VARCHAR,
  dominant_region VARCHAR,
  n_cases INTEGER NOT NULL,
  first_week VARCHAR NOT NULL,
  last_week VARCHAR NOT NULL,
  created_week VARCHAR NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS case_patterns (
  hospital_code VARCHAR NOT NULL,
  case_id VARCHAR NOT NULL,
  pattern_id VARCHAR NOT NULL,
  assigned_week VARCHAR NOT NULL,
  similarity DOUBLE NOT NULL,
  category_code VARCHAR NOT NULL,
  refresh_seq INTEGER NOT NULL,
  PRIMARY KEY (hospital_code, case_id)
);
CREATE TABLE IF NOT EXISTS pattern_processed (
  hospital_code VARCHAR NOT NULL,
  case_id VARCHAR NOT NULL,
  case_version INTEGER NOT NULL,
  category_code VARCHAR NOT NULL,
  visit_week VARCHAR NOT NULL,
  refresh_seq INTEGER NOT NULL,
  PRIMARY KEY (hospital_code, case_id)
);
CREATE TABLE IF NOT EXISTS pattern_refreshes (
  refresh_seq INTEGER PRIMARY KEY,
  week VARCHAR NOT NULL,
  rebuilt BOOLEAN NOT NULL,
  processed_at TIMESTAMP NOT NULL,
  new_cases INTEGER NOT NULL,
  assigned INTEGER NOT NULL,
  removed INTEGER NOT NULL,
  new_patterns INTEGER NOT NULL,
  patterns INTEGER NOT NULL,
  params VARCHAR NOT NULL
);

-- Weekly alerts: written by pipeline.alerts.weekly (one row per alert and week).
CREATE TABLE IF NOT EXISTS alerts (
  week VARCHAR NOT NULL, alert_id VARCHAR NOT NULL, alert_type VARCHAR NOT NULL,
  subject VARCHAR NOT NULL, category VARCHAR, pattern_id VARCHAR, region VARCHAR, term VARCHAR,
  method VARCHAR NOT NULL, observed DOUBLE, expected DOUBLE, threshold DOUBLE, score DOUBLE,
  pvalue DOUBLE, qvalue DOUBLE, status VARCHAR NOT NULL, n_hospitals INTEGER,
  hospitals VARCHAR, n_severe INTEGER, n_admitted INTEGER, n_died INTEGER, priority DOUBLE,
  rank INTEGER, case_keys VARCHAR, params VARCHAR,
  PRIMARY KEY (week, alert_id)
);

-- Triage (append-only, audited): written by pipeline.triage.store. Issue 18 moves these to the
-- application database.
CREATE TABLE IF NOT EXISTS alert_triage (
  event_id VARCHAR PRIMARY KEY, alert_id VARCHAR NOT NULL, week VARCHAR NOT NULL,
  decision VARCHAR NOT NULL, actor VARCHAR NOT NULL, reason VARCHAR NOT NULL,
  recorded_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS followups (
  followup_id VARCHAR PRIMARY KEY, alert_id VARCHAR NOT NULL, hospital_code VARCHAR,
  case_id VARCHAR, requested_by VARCHAR, requested_at TIMESTAMP, due_date DATE
);
CREATE TABLE IF NOT EXISTS followup_results (
  result_id VARCHAR PRIMARY KEY, followup_id VARCHAR NOT NULL, reached BOOLEAN,
  brand_verified VARCHAR, model_verified VARCHAR, batch_verified VARCHAR,
  product_role VARCHAR, conclusion VARCHAR, recorded_by VARCHAR, recorded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit_log (
  event_id VARCHAR PRIMARY KEY, recorded_at TIMESTAMP, actor VARCHAR, action VARCHAR,
  object_type VARCHAR, object_id VARCHAR, details VARCHAR
);
