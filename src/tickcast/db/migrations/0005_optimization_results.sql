-- Hyperparameter searches per dataset version: the trial table and the winner.
CREATE TABLE optimization_results (
    id                    bigserial   PRIMARY KEY,
    created_at            timestamptz NOT NULL DEFAULT now(),
    dataset_id            text        NOT NULL REFERENCES datasets (id),
    backend               text        NOT NULL,
    trials                jsonb       NOT NULL,
    best_params           jsonb       NOT NULL,
    best_validation_loss  double precision NOT NULL,
    mlflow_run_id         text,
    seconds               double precision NOT NULL
);

CREATE INDEX optimization_results_dataset_idx ON optimization_results (dataset_id, id DESC);
