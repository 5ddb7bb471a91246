-- Issue 14: honest transcripts. Applied by m1400_transcript_trust.
--   confidence: share of the passage's words that carry no {?uncertain?} or [inaudible] mark (1.0 = none marked);
--   unsure:     JSON list of the marked passages (NULL when none), what a reader should check against the audio;
--   language:   the utterance's language when it differs from the interview's (a "[de]" turn header);
--   interviews.date_source: 'file' when the date is only the file's time (a copy resets it), else NULL.

ALTER TABLE utterances ADD COLUMN confidence REAL NOT NULL DEFAULT 1.0;
ALTER TABLE utterances ADD COLUMN unsure TEXT;
ALTER TABLE utterances ADD COLUMN language TEXT;
ALTER TABLE quotes ADD COLUMN confidence REAL NOT NULL DEFAULT 1.0;
ALTER TABLE quotes ADD COLUMN unsure TEXT;
ALTER TABLE interviews ADD COLUMN date_source TEXT;
