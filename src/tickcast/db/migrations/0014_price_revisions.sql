-- Histories a source re-wrote (a split or dividend re-adjusts every earlier price): found by
-- re-reading stored sessions at each incremental ingest, healed by re-reading the ticker whole.
CREATE TABLE price_revisions (
    id            bigserial        PRIMARY KEY,
    run_id        bigint           NOT NULL REFERENCES ingest_runs (id),
    ticker        text             NOT NULL,
    detected_at   timestamptz      NOT NULL DEFAULT now(),
    -- ratio: the stored sessions all moved by one factor (new / stored); revision: otherwise.
    kind          text             NOT NULL CHECK (kind IN ('ratio', 'revision')),
    ratio         double precision CHECK (ratio > 0),
    compared_from date             NOT NULL,  -- the stored sessions re-read, first and last
    compared_to   date             NOT NULL,
    rows_changed  integer          NOT NULL CHECK (rows_changed >= 0)
);

CREATE INDEX price_revisions_ticker_idx ON price_revisions (ticker, detected_at DESC);

ALTER TABLE ingest_runs ADD COLUMN tickers_rebased integer NOT NULL DEFAULT 0;
