-- Schema 2: what each alert was computed from, stored by detection so that reports, notices and
-- evidence packs read it instead of re-running the detectors.
--
-- One row per (alert week, alert, series week) for the weeks up to the alert's week (26 by
-- default): the observed count, the week's denominator (every case reported that week), and for
-- series alerts (category, pattern, category x city) the detector's expected value, upper bound
-- and alarm at that week, as the alert's own method computed them with the history it had. Alert
-- types without a baseline (new terms, disproportionality, new patterns) store the observed
-- counts of their subject and NULL expected / upper.
CREATE TABLE alert_series (
  week VARCHAR NOT NULL,
  alert_id VARCHAR NOT NULL,
  series_week VARCHAR NOT NULL,
  observed DOUBLE NOT NULL,
  denominator DOUBLE,
  expected DOUBLE,
  upper DOUBLE,
  alarm BOOLEAN NOT NULL,
  PRIMARY KEY (week, alert_id, series_week)
);
