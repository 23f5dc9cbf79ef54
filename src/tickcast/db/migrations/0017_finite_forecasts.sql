-- No forecast holds NaN or an infinity. PostgreSQL sorts NaN above every number, so the CHECK
-- (predicted_close > 0) of 0006 let a NaN forecast in (and it was served as null). Stored ones
-- were never forecasts: they go first (their scores with them), counted in a notice.
DO $$
DECLARE
    removed bigint;
BEGIN
    DELETE FROM predictions
    WHERE NOT (predicted_log_return > '-Infinity' AND predicted_log_return < 'Infinity')
       OR NOT (predicted_close < 'Infinity') OR NOT (last_close < 'Infinity')
       OR NOT coalesce(interval_centre > '-Infinity' AND interval_centre < 'Infinity', true)
       OR NOT coalesce(interval_scale < 'Infinity', true)
       OR NOT coalesce(baseline_centre > '-Infinity' AND baseline_centre < 'Infinity', true)
       OR NOT coalesce(baseline_scale < 'Infinity', true)
       OR NOT coalesce('Infinity' > ALL (predicted_quantiles), true)
       OR NOT coalesce('Infinity' > ALL (baseline_quantiles), true);
    GET DIAGNOSTICS removed = ROW_COUNT;
    IF removed > 0 THEN
        RAISE NOTICE 'removed % stored forecasts holding NaN or an infinity (and their scores)',
            removed;
    END IF;
END
$$;

-- x < 'Infinity' is false for NaN (sorted above Infinity) and for Infinity itself.
ALTER TABLE predictions ADD CONSTRAINT predictions_finite CHECK (
    predicted_log_return > '-Infinity' AND predicted_log_return < 'Infinity'
    AND predicted_close < 'Infinity' AND last_close < 'Infinity'
    AND (interval_centre > '-Infinity' AND interval_centre < 'Infinity')
    AND interval_scale < 'Infinity'
    AND (baseline_centre > '-Infinity' AND baseline_centre < 'Infinity')
    AND baseline_scale < 'Infinity'
    AND 'Infinity' > ALL (predicted_quantiles) AND '-Infinity' < ALL (predicted_quantiles)
    AND 'Infinity' > ALL (baseline_quantiles) AND '-Infinity' < ALL (baseline_quantiles)
);
