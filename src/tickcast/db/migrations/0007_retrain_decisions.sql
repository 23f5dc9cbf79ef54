-- Every daily decision to retrain or keep, with the metrics it saw and every reason that fired.
CREATE TABLE retrain_decisions (
    id             bigserial   PRIMARY KEY,
    decided_at     timestamptz NOT NULL DEFAULT now(),
    as_of          date        NOT NULL,
    model_name     text        NOT NULL,
    model_version  integer,
    decision       text        NOT NULL CHECK (decision IN ('retrain', 'keep')),
    bootstrap      boolean     NOT NULL DEFAULT false,
    reasons        jsonb       NOT NULL,
    metrics        jsonb       NOT NULL
);

CREATE INDEX retrain_decisions_model_idx ON retrain_decisions (model_name, as_of DESC);
