-- Permanent links (m1300_permanent_links). Quote and turn ids are no longer row counters: custdev build derives
-- them from the interview id and the text (custdev/links.py), keeps an edited quote's id when it can match it,
-- and remembers ids that went away here, so their old URLs lead somewhere instead of a 404.

-- A quote's order in its interview (ids no longer follow file order).
ALTER TABLE quotes ADD COLUMN seq INTEGER;

-- Ids that no longer exist. kind: 'quote' or 'turn'; target_id: the row now showing it (NULL: gone, show the
-- interview with a note).
CREATE TABLE link_aliases (
    kind TEXT NOT NULL CHECK (kind IN ('quote', 'turn')),
    id INTEGER NOT NULL,
    interview_id TEXT NOT NULL,
    target_id INTEGER,
    text TEXT,                    -- the text the link showed (for the note), at most 200 characters
    PRIMARY KEY (kind, id)
);

CREATE INDEX IF NOT EXISTS idx_quotes_interview_seq ON quotes(interview_id, seq);

-- Every interview is written again by the next build, which gives new quotes derived ids and keeps the old ones.
UPDATE interviews SET content_hash = '';
