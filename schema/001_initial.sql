-- custdev research base: the tables `custdev build` fills from interviews/*.md and the codebook.
-- Applied by the migration step m001_initial (custdev/migrations.py).

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
);

CREATE TABLE respondents (
    id TEXT PRIMARY KEY,          -- slug of name + company
    name TEXT NOT NULL,
    company TEXT,
    role TEXT
);

CREATE TABLE segments (
    slug TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT
);

CREATE TABLE pains (
    slug TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT,
    stage TEXT                    -- customer journey stage
);

CREATE TABLE hypotheses (
    slug TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT
);

CREATE TABLE interviews (
    id TEXT PRIMARY KEY,
    title TEXT,
    date TEXT,
    interviewer TEXT,
    respondent_id TEXT REFERENCES respondents(id),
    company TEXT,
    role TEXT,
    nps INTEGER,
    language TEXT,
    audio TEXT,                   -- path relative to the base
    path TEXT NOT NULL UNIQUE,    -- the markdown file, relative to the base
    content_hash TEXT NOT NULL,
    turn_count INTEGER NOT NULL DEFAULT 0,
    quote_count INTEGER NOT NULL DEFAULT 0,
    duration_s REAL,
    body TEXT                     -- the markdown body, for reading on the site
);

CREATE TABLE interview_segments (
    interview_id TEXT NOT NULL REFERENCES interviews(id),
    segment TEXT NOT NULL REFERENCES segments(slug),
    PRIMARY KEY (interview_id, segment)
);

CREATE TABLE utterances (
    id INTEGER PRIMARY KEY,
    interview_id TEXT NOT NULL REFERENCES interviews(id),
    seq INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    speaker_role TEXT NOT NULL CHECK (speaker_role IN ('interviewer', 'respondent')),
    start_s REAL,
    end_s REAL,
    text TEXT NOT NULL,
    text_stem TEXT NOT NULL,      -- normalised, stemmed shadow of text (search)
    line INTEGER                  -- line in the markdown file
);

CREATE TABLE quotes (
    id INTEGER PRIMARY KEY,
    interview_id TEXT NOT NULL REFERENCES interviews(id),
    utterance_id INTEGER NOT NULL REFERENCES utterances(id),
    start_s REAL,
    end_s REAL,
    text TEXT NOT NULL,
    text_stem TEXT NOT NULL,
    line INTEGER
);

CREATE TABLE tags (
    name TEXT PRIMARY KEY         -- hierarchical, e.g. billing/invoices
);

CREATE TABLE quote_pains (
    quote_id INTEGER NOT NULL REFERENCES quotes(id),
    pain TEXT NOT NULL REFERENCES pains(slug),
    PRIMARY KEY (quote_id, pain)
);

CREATE TABLE quote_tags (
    quote_id INTEGER NOT NULL REFERENCES quotes(id),
    tag TEXT NOT NULL REFERENCES tags(name),
    PRIMARY KEY (quote_id, tag)
);

CREATE TABLE quote_hypotheses (
    quote_id INTEGER NOT NULL REFERENCES quotes(id),
    hypothesis TEXT NOT NULL REFERENCES hypotheses(slug),
    stance TEXT NOT NULL CHECK (stance IN ('for', 'against')),
    PRIMARY KEY (quote_id, hypothesis, stance)
);

CREATE INDEX idx_utterances_interview ON utterances(interview_id, seq);
CREATE INDEX idx_quotes_interview ON quotes(interview_id);
CREATE INDEX idx_quotes_utterance ON quotes(utterance_id);
CREATE INDEX idx_quote_pains_pain ON quote_pains(pain);
CREATE INDEX idx_quote_tags_tag ON quote_tags(tag);
CREATE INDEX idx_interview_segments_segment ON interview_segments(segment);
CREATE INDEX idx_interviews_respondent ON interviews(respondent_id);
