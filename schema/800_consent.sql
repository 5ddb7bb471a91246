-- Consent and retention (issue #8): per interview, from its front matter.
-- consent: 'internal' (default when absent: kept in the base, never published), 'publish' or 'withdrawn'.
ALTER TABLE interviews ADD COLUMN consent TEXT;
ALTER TABLE interviews ADD COLUMN retain_audio_until TEXT;
-- Re-read every file at the next build, so the new columns are filled from the front matter.
UPDATE interviews SET content_hash = '';
