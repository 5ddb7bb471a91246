-- Sentence embeddings of respondent turns and quotes (issue #11), filled by `custdev build` when meaning is on.
-- Applied by the migration step m1100_embeddings (custdev/migrations.py).

CREATE TABLE embeddings (
    kind TEXT NOT NULL CHECK (kind IN ('utterance', 'quote')),
    item_id INTEGER NOT NULL,     -- utterances.id or quotes.id
    part INTEGER NOT NULL,        -- sentence of a turn (0, 1, …): a turn matches by its closest sentence; quotes: 0
    interview_id TEXT NOT NULL,
    text_hash TEXT NOT NULL,      -- of the embedded text: an unchanged sentence keeps its vector when its file changes
    vector BLOB NOT NULL,         -- float16, L2-normalised, dimension in meta 'meaning.dim'
    PRIMARY KEY (kind, item_id, part)
);

CREATE INDEX idx_embeddings_interview ON embeddings(interview_id);

-- Which version of each interview (content_hash) was embedded, and with which model.
CREATE TABLE embedded_interviews (
    interview_id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    model TEXT NOT NULL
);

