-- Retention (tickcast gc) deletes the arrays of dataset versions no kept model needs; the
-- catalog row and its report stay, marked collected. Building the same version again writes
-- its arrays back and clears the mark.
ALTER TABLE datasets ADD COLUMN collected_at timestamptz;
