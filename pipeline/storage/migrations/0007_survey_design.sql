-- Schema 7: the survey design of weighted cases (issue 15 item 8).
--
-- NEISS files carry, per case, the survey weight (how many cases nationally it stands for), the
-- sampling stratum and the primary sampling unit (the hospital) of the sample design. Intake keeps
-- them (contract fields survey_weight, survey_stratum, survey_psu; NULL for every hospital of the
-- sentinel network) and the quarterly summary turns them into weighted national estimates with
-- design-based 95% intervals. Written by pipeline.storage.ledger like every case field.
ALTER TABLE case_versions ADD COLUMN survey_weight DOUBLE;
ALTER TABLE case_versions ADD COLUMN survey_stratum VARCHAR;
ALTER TABLE case_versions ADD COLUMN survey_psu VARCHAR;
ALTER TABLE cases ADD COLUMN survey_weight DOUBLE;
ALTER TABLE cases ADD COLUMN survey_stratum VARCHAR;
ALTER TABLE cases ADD COLUMN survey_psu VARCHAR;
