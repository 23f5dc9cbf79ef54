-- Forecasts, one row per (target session, ticker, model version): a re-run replaces its row.
CREATE TABLE predictions (
    target_date           date             NOT NULL,
    ticker                text             NOT NULL,
    model_name            text             NOT NULL,
    model_version         integer          NOT NULL,
    run_id                text             NOT NULL,
    dataset_id            text             NOT NULL,
    predicted_log_return  double precision NOT NULL,
    predicted_close       double precision NOT NULL CHECK (predicted_close > 0),
    last_close            double precision NOT NULL CHECK (last_close > 0),
    last_close_date       date             NOT NULL CHECK (last_close_date < target_date),
    created_at            timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (target_date, ticker, model_name, model_version)
);

-- Each forecast scored once its target session has an actual close.
CREATE TABLE model_performance_log (
    target_date           date             NOT NULL,
    ticker                text             NOT NULL,
    model_name            text             NOT NULL,
    model_version         integer          NOT NULL,
    actual_close          double precision NOT NULL,
    predicted_close       double precision NOT NULL,
    last_close            double precision NOT NULL,
    predicted_log_return  double precision NOT NULL,
    actual_log_return     double precision NOT NULL,
    abs_error             double precision NOT NULL,
    pct_error             double precision NOT NULL,
    direction_hit         boolean          NOT NULL,
    persistence_abs_error double precision NOT NULL,
    scored_at             timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (target_date, ticker, model_name, model_version),
    FOREIGN KEY (target_date, ticker, model_name, model_version)
        REFERENCES predictions (target_date, ticker, model_name, model_version) ON DELETE CASCADE
);

CREATE INDEX model_performance_log_model_idx ON model_performance_log (model_name, model_version, target_date);
