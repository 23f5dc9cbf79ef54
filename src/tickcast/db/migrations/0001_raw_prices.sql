-- Daily OHLCV prices per ticker: the raw system of record every dataset is built from.
CREATE TABLE raw_prices (
    ticker       text             NOT NULL,
    trade_date   date             NOT NULL,
    open         double precision NOT NULL CHECK (open > 0),
    high         double precision NOT NULL CHECK (high > 0),
    low          double precision NOT NULL CHECK (low > 0),
    close        double precision NOT NULL CHECK (close > 0),
    adj_close    double precision NOT NULL CHECK (adj_close > 0),
    volume       bigint           NOT NULL CHECK (volume >= 0),
    source       text             NOT NULL,
    ingested_at  timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (ticker, trade_date),
    CHECK (high >= low)
);
