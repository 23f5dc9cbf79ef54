-- One row per ingest run: what was asked, what landed, what was rejected and why.
CREATE TABLE ingest_runs (
    id                bigserial   PRIMARY KEY,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    source            text        NOT NULL,
    status            text        NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'aborted')),
    tickers_requested integer     NOT NULL DEFAULT 0,
    tickers_failed    integer     NOT NULL DEFAULT 0,
    rows_new          bigint      NOT NULL DEFAULT 0,
    rows_updated      bigint      NOT NULL DEFAULT 0,
    rows_rejected     bigint      NOT NULL DEFAULT 0,
    parameters        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    tickers           jsonb       NOT NULL DEFAULT '[]'::jsonb,
    errors            jsonb       NOT NULL DEFAULT '[]'::jsonb
);

CREATE INDEX ingest_runs_started_at_idx ON ingest_runs (started_at DESC);
