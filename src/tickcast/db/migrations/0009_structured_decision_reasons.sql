-- Decision reasons become objects {rule, threshold, observed, message}; reasons stored as
-- sentences before this migration keep their sentence and get the rule their wording names.
UPDATE retrain_decisions AS d
SET reasons = (
    SELECT coalesce(jsonb_agg(
        CASE WHEN jsonb_typeof(r) = 'string' THEN jsonb_build_object(
            'rule', CASE
                WHEN r #>> '{}' LIKE 'rolling MAPE%' THEN 'max_mape'
                WHEN r #>> '{}' LIKE 'direction accuracy%' THEN 'min_direction_accuracy'
                WHEN r #>> '{}' LIKE 'MASE%' THEN 'max_mase'
                WHEN r #>> '{}' LIKE 'rank IC%' THEN 'min_rank_ic'
                WHEN r #>> '{}' LIKE 'drift%' THEN 'max_psi'
                WHEN r #>> '{}' LIKE 'model age%' THEN 'max_model_age_sessions'
                WHEN r #>> '{}' LIKE 'bootstrap%' THEN 'bootstrap'
                WHEN r #>> '{}' LIKE 'cool-down%' THEN 'cooldown_sessions'
                WHEN r #>> '{}' LIKE 'too few scored sessions%' THEN 'min_scored_sessions'
                WHEN r #>> '{}' LIKE '%within thresholds' THEN 'within_thresholds'
                ELSE 'unknown'
            END,
            'threshold', NULL, 'observed', NULL, 'message', r #>> '{}')
        ELSE r END ORDER BY n), '[]'::jsonb)
    FROM jsonb_array_elements(d.reasons) WITH ORDINALITY AS e(r, n)
)
WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(d.reasons) AS e(r) WHERE jsonb_typeof(r) = 'string');
