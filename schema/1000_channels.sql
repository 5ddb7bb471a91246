-- Voice-of-customer channels beyond interviews (surveys, tickets, chats): custdev/channels/.
-- Applied by the migration step m1000_channels. Interviews keep their own tables; channels never change their numbers.

CREATE TABLE channel_files (
    path TEXT PRIMARY KEY,        -- channels/<channel>/<import>/part-0001.md, relative to the base
    channel TEXT NOT NULL CHECK (channel IN ('survey', 'ticket', 'chat')),
    import TEXT NOT NULL,         -- the import's folder name
    content_hash TEXT NOT NULL,
    items INTEGER NOT NULL DEFAULT 0,
    responses INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE responses (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL REFERENCES channel_files(path),
    channel TEXT NOT NULL CHECK (channel IN ('survey', 'ticket', 'chat')),
    item TEXT NOT NULL,           -- the unit of analysis: a survey response, a ticket, a chat conversation
    seq INTEGER NOT NULL,         -- turn number in its file
    row INTEGER,                  -- row in the imported export (header = 1)
    speaker TEXT NOT NULL,
    speaker_role TEXT NOT NULL CHECK (speaker_role IN ('interviewer', 'respondent')),
    date TEXT,
    respondent TEXT,
    segment TEXT,
    nps INTEGER CHECK (nps BETWEEN 0 AND 10),
    text TEXT NOT NULL,
    text_stem TEXT NOT NULL,
    line INTEGER
);

CREATE TABLE response_codes (
    response_id INTEGER NOT NULL REFERENCES responses(id),
    kind TEXT NOT NULL CHECK (kind IN ('pain', 'tag', 'hypothesis')),
    code TEXT NOT NULL,
    stance TEXT NOT NULL DEFAULT '',   -- 'for' / 'against' for hypotheses
    PRIMARY KEY (response_id, kind, code, stance)
);

CREATE INDEX idx_responses_path ON responses(path);
CREATE INDEX idx_responses_channel_item ON responses(channel, item);
CREATE INDEX idx_response_codes_code ON response_codes(kind, code);

-- Items (responses, tickets, conversations) per channel.
CREATE VIEW channel_totals AS
SELECT channel, count(DISTINCT item) AS items, count(*) AS responses
FROM responses GROUP BY channel;

-- A pain's share of each channel's items: an item mentions the pain when any of its turns is coded with it.
CREATE VIEW channel_pain_prevalence AS
SELECT r.channel, rc.code AS pain, count(DISTINCT r.item) AS items, t.items AS total,
       round(1.0 * count(DISTINCT r.item) / t.items, 4) AS share
FROM response_codes rc
JOIN responses r ON r.id = rc.response_id
JOIN channel_totals t ON t.channel = r.channel
WHERE rc.kind = 'pain'
GROUP BY r.channel, rc.code;

-- NPS from survey responses, by segment, with its own n (one score per response).
CREATE VIEW channel_nps_by_segment AS
SELECT coalesce(segment, '') AS segment, count(*) AS n,
       sum(nps >= 9) AS promoters, sum(nps BETWEEN 7 AND 8) AS passives, sum(nps <= 6) AS detractors,
       round(100.0 * (sum(nps >= 9) - sum(nps <= 6)) / count(*), 1) AS nps
FROM (SELECT item, max(segment) AS segment, max(nps) AS nps FROM responses WHERE channel = 'survey' AND nps IS NOT NULL GROUP BY item)
GROUP BY coalesce(segment, '');
