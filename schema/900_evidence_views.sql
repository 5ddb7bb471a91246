-- Evidence you can defend (issue 9). Applied by m900_evidence_views; replaces the verdicts of 003.
--
--   verdict  = 'systemic' when the 95% Wilson interval's lower bound >= analysis.systemic_threshold (t),
--              'local'    when its upper bound < t,
--              'unclear'  otherwise (the interval straddles t): the data cannot tell yet.
--   more_interviews (unclear rows only) = how many more interviews (of the same scope) would settle the verdict
--              if the share stayed as observed. The Wilson interval is {x : |p - x| <= z sqrt(x(1-x)/n)}, so t
--              leaves it once n > z² t(1-t) / (p - t)² (Wilson 1927); NULL when p = t (it never settles).
--   Hypotheses: n = interviews with evidence (for + against), p = for / n, Wilson interval of p:
--              'supported' when for >= m and the lower bound > 1/2 (a majority of the evidence, for sure),
--              'refuted'   when against >= m and the upper bound < 1/2, otherwise 'unclear'.
--   Richness (pain_richness, per scope: the base, and each segment): T interviews, S_obs pains heard,
--              f1 / f2 pains heard in exactly one / two interviews.
--              chao1 = S_obs + (T-1)/T · f1(f1-1) / (2(f2+1))      (bias-corrected Chao1; Chao 1987, 2005)
--              95% interval: Chao's log-normal interval, f0 = chao1 - S_obs, K = exp(z sqrt(ln(1 + var/f0²))),
--              [S_obs + f0/K, S_obs + f0·K]; when f0 = 0, the interval of Chao's SPADE for that case; both
--              bounds rounded outward to whole pains (floor, ceiling).
--              new_pain_chance = f1 / T (Good–Turing: the chance the next interview brings a pain not heard yet).
--   Co-occurrence: together = interviews mentioning both pains; jaccard = together / interviews mentioning either.

DROP VIEW IF EXISTS pain_prevalence;
DROP VIEW IF EXISTS pain_by_segment;
DROP VIEW IF EXISTS hypothesis_evidence;

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
),
ci AS (
    SELECT shares.*, t, z,
        CASE WHEN total_interviews > 0 THEN MAX(0.0,
            (share + z * z / (2.0 * total_interviews)
             - z * sqrt(share * (1 - share) / total_interviews + z * z / (4.0 * total_interviews * total_interviews)))
            / (1 + z * z / total_interviews)) END AS ci_low,
        CASE WHEN total_interviews > 0 THEN MIN(1.0,
            (share + z * z / (2.0 * total_interviews)
             + z * sqrt(share * (1 - share) / total_interviews + z * z / (4.0 * total_interviews * total_interviews)))
            / (1 + z * z / total_interviews)) END AS ci_high
    FROM shares, settings
),
v AS (
    SELECT ci.*,
        CASE WHEN total_interviews = 0 THEN NULL WHEN ci_low >= t - 1e-12 THEN 'systemic'
             WHEN ci_high < t - 1e-12 THEN 'local' ELSE 'unclear' END AS verdict,
        CASE WHEN total_interviews > 0 AND abs(share - t) > 1e-12 THEN z * z * t * (1 - t) / ((share - t) * (share - t)) END AS settle_n
    FROM ci
)
SELECT pain, title, stage, interviews, total_interviews, share, quotes, ci_low, ci_high, verdict, description,
    CASE WHEN verdict = 'unclear' AND settle_n IS NOT NULL THEN MAX(1,
        CASE WHEN share > t THEN CAST(settle_n - 1e-9 AS INTEGER) + (settle_n - 1e-9 > CAST(settle_n - 1e-9 AS INTEGER))
             ELSE CAST(settle_n + 1e-9 AS INTEGER) + 1 END - total_interviews) END AS more_interviews
FROM v;

-- Every segment x every pain (zeros included, so a heatmap has no holes); an empty segment has share NULL.
-- An interview in two segments counts in both. more_interviews counts interviews of that segment.
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
),
ci AS (
    SELECT shares.*, t, z,
        CASE WHEN segment_interviews > 0 THEN MAX(0.0,
            (share + z * z / (2.0 * segment_interviews)
             - z * sqrt(share * (1 - share) / segment_interviews + z * z / (4.0 * segment_interviews * segment_interviews)))
            / (1 + z * z / segment_interviews)) END AS ci_low,
        CASE WHEN segment_interviews > 0 THEN MIN(1.0,
            (share + z * z / (2.0 * segment_interviews)
             + z * sqrt(share * (1 - share) / segment_interviews + z * z / (4.0 * segment_interviews * segment_interviews)))
            / (1 + z * z / segment_interviews)) END AS ci_high
    FROM shares, settings
),
v AS (
    SELECT ci.*,
        CASE WHEN segment_interviews = 0 THEN NULL WHEN ci_low >= t - 1e-12 THEN 'systemic'
             WHEN ci_high < t - 1e-12 THEN 'local' ELSE 'unclear' END AS verdict,
        CASE WHEN segment_interviews > 0 AND abs(share - t) > 1e-12 THEN z * z * t * (1 - t) / ((share - t) * (share - t)) END AS settle_n
    FROM ci
)
SELECT segment, segment_title, pain, pain_title, interviews, segment_interviews, share, quotes, ci_low, ci_high, verdict,
    CASE WHEN verdict = 'unclear' AND settle_n IS NOT NULL THEN MAX(1,
        CASE WHEN share > t THEN CAST(settle_n - 1e-9 AS INTEGER) + (settle_n - 1e-9 > CAST(settle_n - 1e-9 AS INTEGER))
             ELSE CAST(settle_n + 1e-9 AS INTEGER) + 1 END - segment_interviews) END AS more_interviews
FROM v;

-- Hypotheses: quotes tagged #h/<slug> support, #h/<slug>/against refute; interviews counted once per stance.
CREATE VIEW hypothesis_evidence AS
WITH settings AS (SELECT hypothesis_min_interviews AS m, z FROM analysis_settings),
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
),
ci AS (
    SELECT counts.*, m, z, interviews_for + interviews_against AS evidence,
        CASE WHEN interviews_for + interviews_against > 0 THEN 1.0 * interviews_for / (interviews_for + interviews_against) END AS support_share
    FROM counts, settings
),
w AS (
    SELECT ci.*,
        CASE WHEN evidence > 0 THEN MAX(0.0, (support_share + z * z / (2.0 * evidence)
             - z * sqrt(support_share * (1 - support_share) / evidence + z * z / (4.0 * evidence * evidence))) / (1 + z * z / evidence)) END AS ci_low,
        CASE WHEN evidence > 0 THEN MIN(1.0, (support_share + z * z / (2.0 * evidence)
             + z * sqrt(support_share * (1 - support_share) / evidence + z * z / (4.0 * evidence * evidence))) / (1 + z * z / evidence)) END AS ci_high
    FROM ci
),
v AS (
    SELECT w.*,
        CASE WHEN interviews_for >= m AND ci_low > 0.5 + 1e-12 THEN 'supported'
             WHEN interviews_against >= m AND ci_high < 0.5 - 1e-12 THEN 'refuted'
             ELSE 'unclear' END AS status,
        CASE WHEN evidence > 0 AND abs(support_share - 0.5) > 1e-12
             THEN CAST(z * z * 0.25 / ((support_share - 0.5) * (support_share - 0.5)) + 1e-9 AS INTEGER) + 1 END AS settle_n,
        CASE WHEN support_share > 0.5 THEN support_share WHEN support_share < 0.5 THEN 1 - support_share END AS lead_share
    FROM w
)
SELECT hypothesis, title, description, interviews_for, interviews_against, quotes_for, quotes_against, status,
    evidence, support_share, ci_low, ci_high,
    CASE WHEN status = 'unclear' AND settle_n IS NOT NULL THEN MAX(1,
        MAX(settle_n, CAST(m / lead_share - 1e-9 AS INTEGER) + (m / lead_share - 1e-9 > CAST(m / lead_share - 1e-9 AS INTEGER))) - evidence)
    END AS more_interviews
FROM v;

-- How many pains are still unheard: per scope (segment NULL = the whole base), the bias-corrected Chao1 estimate of
-- how many pains exist, its 95% log-normal interval, and the Good–Turing chance that the next interview brings a new pain.
CREATE VIEW pain_richness AS
WITH settings AS (SELECT z FROM analysis_settings),
ip AS MATERIALIZED (SELECT interview_id, pain FROM interview_pains),
scopes AS (
    SELECT '' AS scope, NULL AS segment, (SELECT COUNT(*) FROM interviews) AS t, 0 AS ord
    UNION ALL
    SELECT s.slug, s.slug, (SELECT COUNT(*) FROM interview_segments AS x WHERE x.segment = s.slug), s.rowid FROM segments AS s
),
freq AS (
    SELECT '' AS scope, pain, COUNT(*) AS k FROM ip GROUP BY pain
    UNION ALL
    SELECT x.segment, ip.pain, COUNT(*) FROM ip JOIN interview_segments AS x ON x.interview_id = ip.interview_id
    GROUP BY x.segment, ip.pain
),
agg AS (
    SELECT sc.scope, sc.segment, sc.ord, sc.t, COUNT(f.pain) AS observed,
        COALESCE(SUM(f.k = 1), 0) AS f1, COALESCE(SUM(f.k = 2), 0) AS f2,
        COALESCE(SUM(exp(-f.k)), 0.0) AS e1, COALESCE(SUM(exp(-f.k) - exp(-2.0 * f.k)), 0.0) AS e2,
        COALESCE(SUM(f.k * exp(-f.k)), 0.0) AS e3
    FROM scopes AS sc LEFT JOIN freq AS f ON f.scope = sc.scope
    GROUP BY sc.scope
),
est AS (
    SELECT agg.*, z,
        CASE WHEN t > 0 THEN (t - 1.0) / t END AS w
    FROM agg, settings
),
est2 AS (
    SELECT est.*,
        CASE WHEN t > 0 THEN observed + w * f1 * (f1 - 1) / (2.0 * (f2 + 1)) END AS chao1,
        CASE WHEN t > 0 THEN w * f1 * (f1 - 1) / (2.0 * (f2 + 1))
            + w * w * f1 * (2.0 * f1 - 1) * (2.0 * f1 - 1) / (4.0 * (f2 + 1) * (f2 + 1))
            + w * w * f1 * f1 * f2 * (f1 - 1.0) * (f1 - 1.0) / (4.0 * (f2 + 1) * (f2 + 1) * (f2 + 1) * (f2 + 1)) END AS var_bc,
        CASE WHEN t > 0 AND observed > 0 THEN MAX(0.0, e2 - e3 * e3 / t) END AS var_obs,
        CASE WHEN observed > 0 THEN e1 / observed END AS p0
    FROM est
)
SELECT segment, t AS interviews, observed, f1 AS singletons, f2 AS doubletons, chao1,
    CAST(low + 1e-9 AS INTEGER) AS chao1_low,
    CAST(high - 1e-9 AS INTEGER) + (high - 1e-9 > CAST(high - 1e-9 AS INTEGER)) AS chao1_high,
    new_pain_chance
FROM (
SELECT est2.*,
    CASE WHEN t = 0 OR observed = 0 THEN NULL
         WHEN chao1 - observed > 1e-9 THEN observed + (chao1 - observed) / exp(z * sqrt(ln(1 + var_bc / ((chao1 - observed) * (chao1 - observed)))))
         ELSE MAX(observed, observed / (1 - p0) - z * sqrt(var_obs) / (1 - p0)) END AS low,
    CASE WHEN t = 0 OR observed = 0 THEN NULL
         WHEN chao1 - observed > 1e-9 THEN observed + (chao1 - observed) * exp(z * sqrt(ln(1 + var_bc / ((chao1 - observed) * (chao1 - observed)))))
         ELSE observed / (1 - p0) + z * sqrt(var_obs) / (1 - p0) END AS high,
    CASE WHEN t > 0 THEN MIN(1.0, 1.0 * f1 / t) END AS new_pain_chance
FROM est2
)
ORDER BY ord;

-- Which pains are mentioned in the same interviews: each pair once (pain_a < pain_b), pairs never together left out.
CREATE VIEW pain_cooccurrence AS
WITH ip AS MATERIALIZED (SELECT interview_id, pain FROM interview_pains),
n AS (SELECT pain, COUNT(*) AS interviews FROM ip GROUP BY pain),
pairs AS (
    SELECT a.pain AS pain_a, b.pain AS pain_b, COUNT(*) AS together
    FROM ip AS a JOIN ip AS b ON b.interview_id = a.interview_id AND b.pain > a.pain
    GROUP BY a.pain, b.pain
)
SELECT pairs.pain_a, pa.title AS title_a, pairs.pain_b, pb.title AS title_b, pairs.together,
    na.interviews AS interviews_a, nb.interviews AS interviews_b,
    1.0 * pairs.together / (na.interviews + nb.interviews - pairs.together) AS jaccard
FROM pairs
JOIN n AS na ON na.pain = pairs.pain_a JOIN n AS nb ON nb.pain = pairs.pain_b
JOIN pains AS pa ON pa.slug = pairs.pain_a JOIN pains AS pb ON pb.slug = pairs.pain_b;
