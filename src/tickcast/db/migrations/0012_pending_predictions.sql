-- Scoring reads only the forecasts still waiting for their outcome (a partial index): its cost
-- follows what is pending, not every forecast ever stored (a long backtest stores millions).
ALTER TABLE predictions ADD COLUMN scored boolean NOT NULL DEFAULT false;

UPDATE predictions AS p SET scored = true
FROM model_performance_log AS s
WHERE s.target_date = p.target_date AND s.ticker = p.ticker
  AND s.model_name = p.model_name AND s.model_version = p.model_version;

CREATE INDEX predictions_pending ON predictions (model_name, target_date) WHERE NOT scored;
