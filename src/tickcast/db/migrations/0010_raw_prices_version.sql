-- A counter that every statement writing raw_prices moves (insert, update, delete, truncate,
-- COPY): caches of what was computed from stored prices are keyed on it.
CREATE TABLE raw_prices_version (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version    bigint  NOT NULL
);
INSERT INTO raw_prices_version (version) VALUES (0);

CREATE FUNCTION bump_raw_prices_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE raw_prices_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER raw_prices_written
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON raw_prices
    FOR EACH STATEMENT EXECUTE FUNCTION bump_raw_prices_version();
