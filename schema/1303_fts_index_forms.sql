-- The full-text indexes keep only the index forms (m1303_fts_index_forms). Every search (custdev search, the site's
-- search page and its JSON, Datasette's table search) matches `text_stem : (...)`, so tokens of the written text were
-- never read: indexing them doubled the index and the time build spends on it. `text` stays a column of the
-- index (UNINDEXED), so the tables keep their shape.
DROP TABLE IF EXISTS utterances_fts;

CREATE VIRTUAL TABLE utterances_fts USING FTS5 (
    text UNINDEXED, text_stem,
    tokenize='unicode61',
    content="utterances"
);

INSERT INTO utterances_fts(utterances_fts) VALUES ('rebuild');

DROP TABLE IF EXISTS quotes_fts;

CREATE VIRTUAL TABLE quotes_fts USING FTS5 (
    text UNINDEXED, text_stem,
    tokenize='unicode61',
    content="quotes"
);

INSERT INTO quotes_fts(quotes_fts) VALUES ('rebuild');
