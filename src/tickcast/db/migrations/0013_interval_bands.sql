-- Each forecast's raw band, before calibration: the centre and half-width (log return) that the
-- model's and the volatility baseline's calibrations score an outcome against; scoring copies
-- them beside the outcome. With them, predict recalibrates a model's intervals on its own newest
-- outcomes (split conformal on a rolling window) without compounding earlier recalibrations,
-- reading only the version's newest scored rows. NULL: no intervals.
ALTER TABLE predictions
    ADD COLUMN interval_centre double precision,
    ADD COLUMN interval_scale  double precision,
    ADD COLUMN baseline_centre double precision,
    ADD COLUMN baseline_scale  double precision;

ALTER TABLE model_performance_log
    ADD COLUMN interval_centre double precision,
    ADD COLUMN interval_scale  double precision,
    ADD COLUMN baseline_centre double precision,
    ADD COLUMN baseline_scale  double precision;
