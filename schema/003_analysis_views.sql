-- Evidence analysis: views over the tables `custdev build` fills. Applied by m003_analysis_views.
-- Every figure `custdev pains|segments|saturation|hypotheses|report` prints is read from these views, so
-- Datasette (and any SQL client) shows exactly the same numbers.
--
-- Definitions
--   An interview "mentions" a pain when at least one of its quotes is coded #pain/<slug>; a pain coded on
--   several quotes of one interview still counts that interview once (`quotes` counts every quote).
--   share    = interviews mentioning / interviews considered (all, or one segment's)          (0..1)
--   ci_low/ci_high = 95% Wilson score interval of share (z = 1.959964); needs SQLite's sqrt(),
--              which this SQLite (3.40, math functions compiled in) has.
--   verdict  = 'systemic' when share >= analysis.systemic_threshold (custdev.toml, default 0.30), else 'local'.
--   NPS      = %promoters (9-10) - %detractors (0-6) over interviews that have a score, -100..100.
-- Settings from custdev.toml reach the views through the `meta` table (keys analysis.*); the analysis
-- commands keep them in sync, and the defaults below apply until then.

CREATE VIEW analysis_settings AS
SELECT
    COALESCE((SELECT CAST(value AS REAL) FROM meta WHERE key = 'analysis.systemic_threshold'), 0.30) AS systemic_threshold,
    COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'analysis.saturation_window'), 3) AS saturation_window,
    COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'analysis.hypothesis_min_interviews'), 3) AS hypothesis_min_interviews,
    1.959963984540054 AS z;

-- One row per (interview, pain) the interview mentions; `quotes` = how many of its quotes carry the pain.
CREATE VIEW interview_pains AS
SELECT q.interview_id AS interview_id, qp.pain AS pain, COUNT(*) AS quotes
FROM quote_pains AS qp
JOIN quotes AS q ON q.id = qp.quote_id
GROUP BY q.interview_id, qp.pain;

CREATE VIEW pain_prevalence AS
WITH settings AS (SELECT systemic_threshold AS t, z FROM analysis_settings),
counts AS (
    SELECT pain, COUNT(*) AS interviews, SUM(quotes) AS quotes FROM interview_pains GROUP BY pain
),
base AS (
    SELECT p.slug AS pain, p.title AS title, p.stage AS stage, p.description AS description,
           COALESCE(c.interviews, 0) AS interviews,
           (SELECT COUNT(*) FROM interviews) AS total_interviews,
           COALESCE(c.quotes, 0) AS quotes
    FROM pains AS p LEFT JOIN counts AS c ON c.pain = p.slug
),
shares AS (
    SELECT base.*, CASE WHEN total_interviews > 0 THEN 1.0 * interviews / total_interviews END AS share
    FROM base
)
SELECT pain, title, stage, interviews, total_interviews, share, quotes,
    CASE WHEN total_interviews > 0 THEN MAX(0.0,
        (share + z * z / (2.0 * total_interviews)
         - z * sqrt(share * (1 - share) / total_interviews + z * z / (4.0 * total_interviews * total_interviews)))
        / (1 + z * z / total_interviews)) END AS ci_low,
    CASE WHEN total_interviews > 0 THEN MIN(1.0,
        (share + z * z / (2.0 * total_interviews)
         + z * sqrt(share * (1 - share) / total_interviews + z * z / (4.0 * total_interviews * total_interviews)))
        / (1 + z * z / total_interviews)) END AS ci_high,
    CASE WHEN total_interviews = 0 THEN NULL WHEN share >= t - 1e-12 THEN 'systemic' ELSE 'local' END AS verdict,
    description
FROM shares, settings;

-- Every segment x every pain (zeros included, so a heatmap has no holes); an empty segment has share NULL.
-- An interview in two segments counts in both.
CREATE VIEW pain_by_segment AS
WITH settings AS (SELECT systemic_threshold AS t, z FROM analysis_settings),
seg AS (
    SELECT s.slug, s.title, (SELECT COUNT(*) FROM interview_segments AS x WHERE x.segment = s.slug) AS n
    FROM segments AS s
),
counts AS (
    SELECT x.segment AS segment, ip.pain AS pain, COUNT(*) AS interviews, SUM(ip.quotes) AS quotes
    FROM interview_pains AS ip JOIN interview_segments AS x ON x.interview_id = ip.interview_id
    GROUP BY x.segment, ip.pain
),
shares AS (
    SELECT seg.slug AS segment, seg.title AS segment_title, p.slug AS pain, p.title AS pain_title,
           COALESCE(c.interviews, 0) AS interviews, seg.n AS segment_interviews,
           CASE WHEN seg.n > 0 THEN 1.0 * COALESCE(c.interviews, 0) / seg.n END AS share,
           COALESCE(c.quotes, 0) AS quotes
    FROM seg CROSS JOIN pains AS p LEFT JOIN counts AS c ON c.segment = seg.slug AND c.pain = p.slug
)
SELECT segment, segment_title, pain, pain_title, interviews, segment_interviews, share, quotes,
    CASE WHEN segment_interviews > 0 THEN MAX(0.0,
        (share + z * z / (2.0 * segment_interviews)
         - z * sqrt(share * (1 - share) / segment_interviews + z * z / (4.0 * segment_interviews * segment_interviews)))
        / (1 + z * z / segment_interviews)) END AS ci_low,
    CASE WHEN segment_interviews > 0 THEN MIN(1.0,
        (share + z * z / (2.0 * segment_interviews)
         + z * sqrt(share * (1 - share) / segment_interviews + z * z / (4.0 * segment_interviews * segment_interviews)))
        / (1 + z * z / segment_interviews)) END AS ci_high,
    CASE WHEN segment_interviews = 0 THEN NULL WHEN share >= t - 1e-12 THEN 'systemic' ELSE 'local' END AS verdict
FROM shares, settings;

-- NPS per segment over the segment's interviews that have a score (nps NULL when none has one).
CREATE VIEW nps_by_segment AS
SELECT s.slug AS segment, s.title AS segment_title,
    COUNT(i.nps) AS scored,
    COALESCE(SUM(i.nps >= 9), 0) AS promoters,
    COALESCE(SUM(i.nps BETWEEN 7 AND 8), 0) AS passives,
    COALESCE(SUM(i.nps <= 6), 0) AS detractors,
    CASE WHEN COUNT(i.nps) > 0
         THEN ROUND(100.0 * (SUM(i.nps >= 9) - SUM(i.nps <= 6)) / COUNT(i.nps), 1) END AS nps,
    COUNT(i.id) AS interviews,
    COUNT(DISTINCT i.respondent_id) AS respondents
FROM segments AS s
LEFT JOIN interview_segments AS x ON x.segment = s.slug
LEFT JOIN interviews AS i ON i.id = x.interview_id
GROUP BY s.slug;

-- The same over all interviews (one row).
CREATE VIEW nps_overall AS
SELECT COUNT(nps) AS scored,
    COALESCE(SUM(nps >= 9), 0) AS promoters,
    COALESCE(SUM(nps BETWEEN 7 AND 8), 0) AS passives,
    COALESCE(SUM(nps <= 6), 0) AS detractors,
    CASE WHEN COUNT(nps) > 0 THEN ROUND(100.0 * (SUM(nps >= 9) - SUM(nps <= 6)) / COUNT(nps), 1) END AS nps,
    COUNT(*) AS interviews,
    COUNT(DISTINCT respondent_id) AS respondents
FROM interviews;

-- Saturation: interviews in date order (undated last, ties by id); new_pains = pains no earlier interview
-- mentioned. The last K rows (analysis.saturation_window) adding 0 is the usual "enough interviews" signal.
CREATE VIEW saturation AS
WITH ip AS MATERIALIZED (SELECT interview_id, pain FROM interview_pains),
ordered AS (
    SELECT id AS interview_id, date, ROW_NUMBER() OVER (ORDER BY date IS NULL, date, id) AS seq FROM interviews
),
firsts AS (
    SELECT ip.pain AS pain, MIN(o.seq) AS seq FROM ip JOIN ordered AS o ON o.interview_id = ip.interview_id GROUP BY ip.pain
),
mentioned AS (SELECT interview_id, COUNT(*) AS pains FROM ip GROUP BY interview_id),
per AS (
    SELECT o.seq AS seq, o.interview_id AS interview_id, o.date AS date, COUNT(f.pain) AS new_pains,
           group_concat(f.pain, ' ') AS new_pain_slugs
    FROM ordered AS o LEFT JOIN firsts AS f ON f.seq = o.seq
    GROUP BY o.seq
)
SELECT per.seq, per.interview_id, per.date, COALESCE(m.pains, 0) AS pains, per.new_pains, per.new_pain_slugs,
    SUM(per.new_pains) OVER (ORDER BY per.seq) AS cumulative_pains
FROM per LEFT JOIN mentioned AS m ON m.interview_id = per.interview_id;

-- The same within each segment: "new" means new for that segment.
CREATE VIEW saturation_by_segment AS
WITH ip AS MATERIALIZED (SELECT interview_id, pain FROM interview_pains),
ordered AS (
    SELECT x.segment AS segment, i.id AS interview_id, i.date AS date,
           ROW_NUMBER() OVER (PARTITION BY x.segment ORDER BY i.date IS NULL, i.date, i.id) AS seq
    FROM interview_segments AS x JOIN interviews AS i ON i.id = x.interview_id
),
firsts AS (
    SELECT o.segment AS segment, ip.pain AS pain, MIN(o.seq) AS seq
    FROM ip JOIN ordered AS o ON o.interview_id = ip.interview_id
    GROUP BY o.segment, ip.pain
),
mentioned AS (SELECT interview_id, COUNT(*) AS pains FROM ip GROUP BY interview_id),
per AS (
    SELECT o.segment AS segment, o.seq AS seq, o.interview_id AS interview_id, o.date AS date,
           COUNT(f.pain) AS new_pains, group_concat(f.pain, ' ') AS new_pain_slugs
    FROM ordered AS o LEFT JOIN firsts AS f ON f.segment = o.segment AND f.seq = o.seq
    GROUP BY o.segment, o.seq
)
SELECT per.segment, per.seq, per.interview_id, per.date, COALESCE(m.pains, 0) AS pains, per.new_pains,
    per.new_pain_slugs,
    SUM(per.new_pains) OVER (PARTITION BY per.segment ORDER BY per.seq) AS cumulative_pains
FROM per LEFT JOIN mentioned AS m ON m.interview_id = per.interview_id;

-- Hypotheses: quotes tagged #h/<slug> support, #h/<slug>/against refute. Interviews are counted once per
-- stance (an interview with both counts on both sides). Status rule, m = analysis.hypothesis_min_interviews (3):
--   supported            interviews_for >= m and interviews_for >= 2 * interviews_against
--   refuted              interviews_against >= m and interviews_against >= 2 * interviews_for
--   not enough evidence  otherwise (too few interviews, or evidence split without a 2:1 majority)
CREATE VIEW hypothesis_evidence AS
WITH settings AS (SELECT hypothesis_min_interviews AS m FROM analysis_settings),
ev AS (
    SELECT qh.hypothesis AS hypothesis, qh.stance AS stance,
           COUNT(DISTINCT q.interview_id) AS interviews, COUNT(*) AS quotes
    FROM quote_hypotheses AS qh JOIN quotes AS q ON q.id = qh.quote_id
    GROUP BY qh.hypothesis, qh.stance
),
counts AS (
    SELECT h.slug AS hypothesis, h.title AS title, h.description AS description,
           COALESCE(f.interviews, 0) AS interviews_for, COALESCE(a.interviews, 0) AS interviews_against,
           COALESCE(f.quotes, 0) AS quotes_for, COALESCE(a.quotes, 0) AS quotes_against
    FROM hypotheses AS h
    LEFT JOIN ev AS f ON f.hypothesis = h.slug AND f.stance = 'for'
    LEFT JOIN ev AS a ON a.hypothesis = h.slug AND a.stance = 'against'
)
SELECT hypothesis, title, description, interviews_for, interviews_against, quotes_for, quotes_against,
    CASE WHEN interviews_for >= m AND interviews_for >= 2 * interviews_against THEN 'supported'
         WHEN interviews_against >= m AND interviews_against >= 2 * interviews_for THEN 'refuted'
         ELSE 'not enough evidence' END AS status
FROM counts, settings;

-- Covering indexes for the views and the report's quote picks.
CREATE INDEX IF NOT EXISTS idx_quote_pains_pain_quote ON quote_pains(pain, quote_id);
CREATE INDEX IF NOT EXISTS idx_quote_tags_tag_quote ON quote_tags(tag, quote_id);
CREATE INDEX IF NOT EXISTS idx_quote_hypotheses_h ON quote_hypotheses(hypothesis, stance, quote_id);
CREATE INDEX IF NOT EXISTS idx_interview_segments_segment_interview ON interview_segments(segment, interview_id);
CREATE INDEX IF NOT EXISTS idx_interviews_date ON interviews(date, id);
