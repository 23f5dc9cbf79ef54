-- Every promotion decision and alias move (MLflow keeps no history of alias moves).
CREATE TABLE model_promotions (
    id                 bigserial   PRIMARY KEY,
    decided_at         timestamptz NOT NULL DEFAULT now(),
    model_name         text        NOT NULL,
    action             text        NOT NULL CHECK (action IN ('evaluate', 'promote', 'rollback')),
    candidate_version  integer,
    production_before  integer,
    production_after   integer,
    promoted           boolean     NOT NULL,
    bootstrap          boolean     NOT NULL DEFAULT false,
    dataset_id         text,
    rule               jsonb       NOT NULL DEFAULT '{}'::jsonb,
    metrics            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    reason             text        NOT NULL
);

CREATE INDEX model_promotions_model_idx ON model_promotions (model_name, id DESC);
