-- Every alert event (tickcast.ops.alerts): what happened, for which model and session, and how
-- each configured webhook took it (attempts, status or error). Kept as history, like decisions.
CREATE TABLE alerts (
    id           bigserial PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    kind         text NOT NULL,
    model_name   text NOT NULL,
    as_of        date,
    summary      text NOT NULL,
    details      jsonb NOT NULL DEFAULT '{}',
    fingerprint  text NOT NULL,  -- equal for a repeat of the same situation (not sent again)
    deliveries   jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX alerts_by_kind ON alerts (model_name, kind, id DESC);
