-- Schema 6: triage decisions, follow-ups, their results and the audit log live in the application
-- database (pipeline/appdb, issue 18), tied to signals; the warehouse keeps analytical data only.
-- moves-out: alert_triage, followups, followup_results, audit_log
-- `sentinel db upgrade` copies their rows there first (pipeline.services.db, with the legacy
-- actors kept as scrubbed labels); a warehouse whose tables are empty simply loses them.
DROP TABLE alert_triage;
DROP TABLE followups;
DROP TABLE followup_results;
DROP TABLE audit_log;
