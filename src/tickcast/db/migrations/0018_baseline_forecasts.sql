-- The one-line baselines' forecasts beside each model forecast (tickcast.models.baselines:
-- reversal and market, with the version's own fitted numbers, from the same stored prices), so
-- the monitor scores them on exactly the forecast's rows. NULL for forecasts made before them,
-- by a bundle saved without them, or for a ticker without a return on its last session.
ALTER TABLE predictions
    ADD COLUMN reversal_log_return double precision,
    ADD COLUMN market_log_return   double precision,
    ADD CONSTRAINT predictions_finite_baselines CHECK (
        reversal_log_return > '-Infinity' AND reversal_log_return < 'Infinity'
        AND market_log_return > '-Infinity' AND market_log_return < 'Infinity'
    );

ALTER TABLE model_performance_log
    ADD COLUMN reversal_log_return double precision,
    ADD COLUMN market_log_return   double precision;
