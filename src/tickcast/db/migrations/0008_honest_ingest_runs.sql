-- An ingest stopped by Ctrl-C is recorded as such (a killed one stays 'aborted'), and the
-- counts of a run grow with every committed batch, so a run that never finished still says
-- what it stored.
ALTER TABLE ingest_runs DROP CONSTRAINT ingest_runs_status_check;
ALTER TABLE ingest_runs ADD CONSTRAINT ingest_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'aborted', 'interrupted'));

-- Defence in depth behind validation: no infinite or NaN price is ever stored ('NaN' sorts above
-- 'Infinity' in PostgreSQL). NOT VALID: rows already stored are not re-checked.
ALTER TABLE raw_prices ADD CONSTRAINT raw_prices_finite_prices
    CHECK (open < 'Infinity' AND high < 'Infinity' AND low < 'Infinity'
           AND close < 'Infinity' AND adj_close < 'Infinity') NOT VALID;
