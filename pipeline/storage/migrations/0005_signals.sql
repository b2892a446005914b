-- Schema 5: signals, the alerts of one hazard grouped (written by pipeline.alerts.signals through
-- pipeline.alerts.weekly.run_weeks, like the alerts of the same week; docs/detection.md).
--
-- signal_weeks: one row per (week, signal) for every signal that is open that week or resolves
-- that week. status new | ongoing | reopened (member alerts fired this week) | quiet (none this
-- week, still open) | resolved (quiet for the configured number of weeks). categories, alert_ids,
-- subjects and detectors are JSON lists of everything the signal has held since it was raised;
-- case_keys every case linked to it from onset_week to week (evidence_rule says whether by its
-- specific subjects or by its whole category). rank orders the week's active signals.
CREATE TABLE signal_weeks (
  week VARCHAR NOT NULL,
  signal_id VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  anchor VARCHAR NOT NULL,
  category VARCHAR,
  categories VARCHAR NOT NULL,
  onset_week VARCHAR NOT NULL,
  first_week VARCHAR NOT NULL,
  last_alert_week VARCHAR NOT NULL,
  quiet_weeks INTEGER NOT NULL,
  n_alerts INTEGER NOT NULL,
  alert_ids VARCHAR NOT NULL,
  subjects VARCHAR NOT NULL,
  detectors VARCHAR NOT NULL,
  evidence_rule VARCHAR NOT NULL,
  n_cases INTEGER NOT NULL,
  n_hospitals INTEGER NOT NULL,
  hospitals VARCHAR NOT NULL,
  n_severe INTEGER NOT NULL,
  n_admitted INTEGER NOT NULL,
  n_died INTEGER NOT NULL,
  priority DOUBLE,
  rank INTEGER,
  case_keys VARCHAR NOT NULL,
  PRIMARY KEY (week, signal_id)
);
-- signal_alerts: the member alerts of a signal in a week (an alert belongs to one signal a week).
CREATE TABLE signal_alerts (
  week VARCHAR NOT NULL,
  signal_id VARCHAR NOT NULL,
  alert_id VARCHAR NOT NULL,
  PRIMARY KEY (week, alert_id)
);
-- signals: the latest stored week of every signal.
CREATE VIEW signals AS
SELECT * FROM signal_weeks
QUALIFY row_number() OVER (PARTITION BY signal_id ORDER BY week DESC) = 1;
