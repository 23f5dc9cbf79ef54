-- The online offsets of each version's interval quantiles (tickcast.models.adaptive_intervals),
-- one row per scored session folded in: the state a forecast's bands were made with, kept in
-- the system of record so that a restored backup forecasts the same bands. Offsets are in
-- score units, per level, for the model's quantiles and the volatility baseline's.
CREATE TABLE interval_adaptation (
    model_name       text NOT NULL,
    model_version    integer NOT NULL,
    session          date NOT NULL,
    sessions         integer NOT NULL CHECK (sessions > 0),
    levels           double precision[] NOT NULL,
    model_offsets    double precision[] NOT NULL,
    baseline_offsets double precision[] NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_name, model_version, session),
    CHECK (cardinality(levels) = cardinality(model_offsets)
           AND cardinality(levels) = cardinality(baseline_offsets)),
    CHECK ('Infinity' > ALL (model_offsets) AND '-Infinity' < ALL (model_offsets)
           AND 'Infinity' > ALL (baseline_offsets) AND '-Infinity' < ALL (baseline_offsets))
);
