-- What custdev build remembers to go fast (m1302_build_cache). Both tables are caches: emptying them only makes the
-- next build slower.

-- The dictionary forms (pymorphy3) of each distinct Cyrillic word of the base: forms separated by spaces, the most
-- likely first. Loaded before parsing, so each word is analysed once per base, not once per build and worker.
-- meta 'lemmas.key' names the dictionaries they came from; another version empties the table.
CREATE TABLE IF NOT EXISTS lemmas (
    word TEXT PRIMARY KEY,
    forms TEXT NOT NULL
);

-- Size and modification time of each interview file (and its word-timestamp sidecar) when its content hash was
-- taken: a file whose stamp has not changed is not read again to decide that it is unchanged.
CREATE TABLE IF NOT EXISTS file_stamps (
    path TEXT PRIMARY KEY,
    stamp TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
