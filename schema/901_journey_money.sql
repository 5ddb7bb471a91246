-- Journey stages, touchpoint scores and segment sizes (issue 9). Applied by m901_journey_money.
--
--   stages                  the codebook's journey stages, in order (position 1, 2, …)
--   interview_stage_scores  an interview's touchpoint scores (front matter nps_by_stage: {stage: 0..10})
--   segments.size/revenue   accounts in the segment and its revenue (codebook); both optional
--   stage_scores            per stage, for the base (segment NULL) and each segment: interviews scored, mean score,
--                           and NPS over those scores (% 9–10 − % 0–6)
--   journey                 pains by stage (stage order) for the base (segment NULL) and each segment, with the
--                           share, interval, verdict and more_interviews of pain_prevalence / pain_by_segment
--   pain_money              per segment with a size or revenue: accounts affected = share × size, as an interval
--                           ci_low × size … ci_high × size; revenue at risk = share × revenue, likewise
--   pain_money_total        the same summed over the segments (segments taken as separate groups of accounts)

ALTER TABLE segments ADD COLUMN size REAL;
ALTER TABLE segments ADD COLUMN revenue REAL;

CREATE TABLE stages (
    slug TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE interview_stage_scores (
    interview_id TEXT NOT NULL REFERENCES interviews(id),
    stage TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    PRIMARY KEY (interview_id, stage)
);

-- Interviews stored before this step never had their nps_by_stage read: make the next build re-check every file.
DELETE FROM meta WHERE key = 'codebook_hash';

CREATE VIEW stage_scores AS
WITH scopes AS (
    SELECT NULL AS segment, i.id AS interview_id FROM interviews AS i
    UNION ALL
    SELECT x.segment, x.interview_id FROM interview_segments AS x
)
SELECT sc.stage AS stage, COALESCE(st.title, sc.stage) AS stage_title, st.position AS position, s.segment AS segment,
    COUNT(*) AS scored, ROUND(AVG(sc.score), 2) AS mean_score,
    ROUND(100.0 * (SUM(sc.score >= 9) - SUM(sc.score <= 6)) / COUNT(*), 1) AS nps
FROM interview_stage_scores AS sc
JOIN scopes AS s ON s.interview_id = sc.interview_id
LEFT JOIN stages AS st ON st.slug = sc.stage
GROUP BY sc.stage, s.segment;

CREATE VIEW journey AS
SELECT p.stage AS stage, COALESCE(st.title, p.stage) AS stage_title, st.position AS position, NULL AS segment,
    v.pain, v.title AS pain_title, v.interviews, v.total_interviews AS scope_interviews, v.share, v.ci_low, v.ci_high,
    v.verdict, v.more_interviews
FROM pain_prevalence AS v JOIN pains AS p ON p.slug = v.pain LEFT JOIN stages AS st ON st.slug = p.stage
UNION ALL
SELECT p.stage, COALESCE(st.title, p.stage), st.position, v.segment,
    v.pain, v.pain_title, v.interviews, v.segment_interviews, v.share, v.ci_low, v.ci_high, v.verdict, v.more_interviews
FROM pain_by_segment AS v JOIN pains AS p ON p.slug = v.pain LEFT JOIN stages AS st ON st.slug = p.stage;

CREATE VIEW pain_money AS
SELECT v.segment, v.segment_title, v.pain, v.pain_title, v.interviews, v.segment_interviews, v.share, v.ci_low, v.ci_high,
    v.verdict, s.size, s.revenue,
    v.share * s.size AS accounts, v.ci_low * s.size AS accounts_low, v.ci_high * s.size AS accounts_high,
    v.share * s.revenue AS revenue_at_risk, v.ci_low * s.revenue AS revenue_low, v.ci_high * s.revenue AS revenue_high
FROM pain_by_segment AS v JOIN segments AS s ON s.slug = v.segment
WHERE v.segment_interviews > 0 AND (s.size IS NOT NULL OR s.revenue IS NOT NULL);

CREATE VIEW pain_money_total AS
SELECT pain, pain_title, COUNT(*) AS segments,
    SUM(accounts) AS accounts, SUM(accounts_low) AS accounts_low, SUM(accounts_high) AS accounts_high,
    SUM(revenue_at_risk) AS revenue_at_risk, SUM(revenue_low) AS revenue_low, SUM(revenue_high) AS revenue_high
FROM pain_money
GROUP BY pain;

CREATE INDEX IF NOT EXISTS idx_interview_stage_scores_stage ON interview_stage_scores(stage, interview_id);
