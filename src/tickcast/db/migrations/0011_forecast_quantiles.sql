-- Forecast intervals: each forecast's quantiles of the next close at its model's levels, and
-- the volatility baseline's at the same levels (NULL for forecasts made before intervals, or
-- for a ticker whose recent volatility is unknown). Scoring copies them beside the outcome.
ALTER TABLE predictions
    ADD COLUMN quantile_levels     double precision[],
    ADD COLUMN predicted_quantiles double precision[],
    ADD COLUMN baseline_quantiles  double precision[];

ALTER TABLE model_performance_log
    ADD COLUMN quantile_levels     double precision[],
    ADD COLUMN predicted_quantiles double precision[],
    ADD COLUMN baseline_quantiles  double precision[];
