-- The dataset catalog: one row per immutable dataset version (arrays live in the artifact store).
CREATE TABLE datasets (
    id                  text        PRIMARY KEY,
    created_at          timestamptz NOT NULL DEFAULT now(),
    content_sha256      text        NOT NULL UNIQUE,
    artifact_uri        text        NOT NULL,
    panel_start         date        NOT NULL,  -- first session indicators are computed from
    source_start        date        NOT NULL,  -- first row after the indicator warm-up
    source_end          date        NOT NULL,  -- last stored session used
    tickers             text[]      NOT NULL,
    dropped_tickers     jsonb       NOT NULL,
    features            text[]      NOT NULL,
    dropped_features    jsonb       NOT NULL,
    horizon             integer     NOT NULL CHECK (horizon >= 1),
    sequence_length     integer     NOT NULL CHECK (sequence_length >= 1),
    warmup_sessions     integer     NOT NULL,
    splits              jsonb       NOT NULL,  -- per part: first/last anchor row and date, samples
    panel_rows          integer     NOT NULL,
    config              jsonb       NOT NULL,
    report              text        NOT NULL
);

CREATE INDEX datasets_created_at_idx ON datasets (created_at DESC);
