-- Which tickers were in the universe when (`tickcast universe load FILE`): datasets, daily runs
-- and backtests take the members of each session instead of today's tickers for all of history.
-- Empty: today's tickers (with their survivorship bias).
CREATE TABLE universe_members (
    ticker       text NOT NULL,
    member_from  date NOT NULL,
    member_to    date,  -- the last session as a member; NULL: still one
    PRIMARY KEY (ticker, member_from),
    CHECK (member_to IS NULL OR member_to >= member_from)
);

-- Another universe changes the datasets built from the same prices.
CREATE TRIGGER universe_members_written
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON universe_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_raw_prices_version();
