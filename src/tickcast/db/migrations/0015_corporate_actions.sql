-- Splits and dividends per ticker and ex-date, as the sources report them. value: for a split the
-- shares after per share before (2 for 2:1, 0.1 for a 1:10 reverse split); for a dividend the
-- cash per share, as traded on the ex-date.
CREATE TABLE corporate_actions (
    ticker       text             NOT NULL,
    ex_date      date             NOT NULL,
    kind         text             NOT NULL CHECK (kind IN ('split', 'dividend')),
    value        double precision NOT NULL CHECK (value > 0 AND value < 'Infinity'),
    source       text             NOT NULL,
    recorded_at  timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (ticker, ex_date, kind)
);

-- Moves raw_prices_version when the statement changed a row (its transition table `changed`
-- holds any): re-storing the same actions each day leaves caches valid.
CREATE FUNCTION bump_raw_prices_version_if_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        UPDATE raw_prices_version SET version = version + 1;
    END IF;
    RETURN NULL;
END
$$;

-- An action moves what every adjusted price means: caches keyed on stored prices see it.
CREATE TRIGGER corporate_actions_inserted AFTER INSERT ON corporate_actions
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_raw_prices_version_if_changed();
CREATE TRIGGER corporate_actions_updated AFTER UPDATE ON corporate_actions
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_raw_prices_version_if_changed();
CREATE TRIGGER corporate_actions_deleted AFTER DELETE ON corporate_actions
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_raw_prices_version_if_changed();
CREATE TRIGGER corporate_actions_truncated AFTER TRUNCATE ON corporate_actions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_raw_prices_version();

-- Shares today per share on the row's date, from the splits after it: adjusted volume is
-- volume x split_factor. 1 for sources that deliver split-adjusted rows (yfinance, CSV).
ALTER TABLE raw_prices
    ADD COLUMN split_factor double precision NOT NULL DEFAULT 1
        CHECK (split_factor > 0 AND split_factor < 'Infinity');

-- Jumps a person looked at and accepted as real (`tickcast prices accept TICKER DATE`): a stored
-- return beyond validation.outlier_log_return on that session no longer quarantines the ticker.
CREATE TABLE price_acceptances (
    ticker       text        NOT NULL,
    trade_date   date        NOT NULL,
    accepted_at  timestamptz NOT NULL DEFAULT now(),
    note         text        NOT NULL DEFAULT '',
    PRIMARY KEY (ticker, trade_date)
);

-- An acceptance changes which tickers are forecast from the same prices.
CREATE TRIGGER price_acceptances_inserted AFTER INSERT ON price_acceptances
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_raw_prices_version_if_changed();
CREATE TRIGGER price_acceptances_deleted AFTER DELETE ON price_acceptances
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION bump_raw_prices_version_if_changed();
