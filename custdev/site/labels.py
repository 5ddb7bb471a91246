"""Headings for the site's tables and columns: every table, view and column of custdev.db (and of the canned queries)
has a label in the message catalogs, so a Russian base shows «Реплики» and «Длительность, с» where Datasette would
show ``utterances`` and ``duration_s``. URLs, filters and the SQL keep the names; only what a reader sees changes."""

from __future__ import annotations

from custdev.i18n import N_

# Tables and views, as page titles, crumbs and the database page's list.
TABLE_LABELS = {
    "interviews": N_("Interviews"), "respondents": N_("Respondents"), "segments": N_("Segments"), "pains": N_("Pains"),
    "hypotheses": N_("Hypotheses"), "stages": N_("Stages"), "tags": N_("Tags"), "utterances": N_("Turns"),
    "quotes": N_("Quotes"), "interview_segments": N_("Segments of interviews"), "quote_pains": N_("Pains of quotes"),
    "quote_tags": N_("Tags of quotes"), "quote_hypotheses": N_("Hypotheses of quotes"),
    "interview_stage_scores": N_("Stage scores of interviews"), "responses": N_("Channel responses"),
    "response_codes": N_("Codes of responses"), "channel_files": N_("Channel files"),
    "embeddings": N_("Meaning vectors"), "embedded_interviews": N_("Interviews with meaning vectors"),
    "file_stamps": N_("File stamps"), "lemmas": N_("Dictionary forms"), "link_aliases": N_("Earlier links"),
    "meta": N_("Base settings"), "_sqlite_migrations": N_("Migrations"),
    "analysis_settings": N_("Analysis settings"), "pain_prevalence": N_("Pain prevalence"),
    "pain_by_segment": N_("Pains by segment"), "pain_richness": N_("Unheard pains"),
    "pain_cooccurrence": N_("Pains mentioned together"), "interview_pains": N_("Pains of interviews"),
    "pain_money": N_("Money at stake by segment"), "pain_money_total": N_("Money at stake"),
    "nps_by_segment": N_("NPS by segment"), "nps_overall": N_("NPS overall"), "saturation": N_("Saturation"),
    "saturation_by_segment": N_("Saturation by segment"), "hypothesis_evidence": N_("Evidence on hypotheses"),
    "stage_scores": N_("Stage scores"), "journey": N_("Journey"), "channel_totals": N_("Channel totals"),
    "channel_pain_prevalence": N_("Pains in channels"), "channel_nps_by_segment": N_("Channel NPS by segment"),
}

# Columns (of the tables above and of the canned queries) and the canned queries' parameters, as headings.
COLUMN_LABELS = {
    # who, where, when
    "id": N_("Id"), "slug": N_("Slug"), "title": N_("Title"), "description": N_("Description"), "name": N_("Name"),
    "interview": N_("Interview"), "interview_id": N_("Interview id"), "interviews": N_("Interviews"),
    "respondent": N_("Respondent"), "respondent_id": N_("Respondent"), "respondents": N_("Respondents"),
    "interviewer": N_("Interviewer"), "company": N_("Company"), "role": N_("Role"), "date": N_("Date"),
    "date_source": N_("Date from"), "language": N_("Language"), "consent": N_("Consent"),
    "retain_audio_until": N_("Keep recording until"), "audio": N_("Recording"), "path": N_("File"),
    "body": N_("Markdown"), "content_hash": N_("Content hash"), "text_hash": N_("Text hash"), "stamp": N_("File stamp"),
    "turn_count": N_("Turns"), "quote_count": N_("Quotes"), "duration_s": N_("Duration, s"),
    # turns and quotes
    "seq": N_("Turn"), "line": N_("Line"), "speaker": N_("Speaker"), "speaker_role": N_("Speaker role"),
    "start_s": N_("Time"), "end_s": N_("End, s"), "text": N_("Text"), "text_stem": N_("Text for search"),
    "confidence": N_("Confidence"), "unsure": N_("Uncertain words"), "quote": N_("Quote"), "quote_id": N_("Quote id"),
    "quotes": N_("Quotes"), "utterance_id": N_("Turn id"), "target_id": N_("Now at"), "kind": N_("Kind"),
    "position": N_("Position"), "q": N_("Words"), "Link": N_("Link"),
    # codes
    "segment": N_("Segment"), "segments": N_("Segments"), "segment_title": N_("Segment title"), "pain": N_("Pain"),
    "pains": N_("Pains"), "pain_title": N_("Pain title"), "pain_a": N_("Pain A"), "pain_b": N_("Pain B"),
    "title_a": N_("Title of pain A"), "title_b": N_("Title of pain B"), "tag": N_("Tag"), "hypothesis": N_("Hypothesis"),
    "stage": N_("Stage"), "stage_title": N_("Stage title"), "code": N_("Code"), "stance": N_("For or against"),
    # figures
    "share": N_("Share"), "share_pct": N_("Share"), "ci_low": N_("Interval from"), "ci_high": N_("Interval to"),
    "verdict": N_("Verdict"), "more_interviews": N_("Interviews still needed"), "n": N_("Count"),
    "segment_interviews": N_("Interviews in the segment"), "scope_interviews": N_("Interviews in scope"),
    "total_interviews": N_("Interviews in all"), "together": N_("Together"), "jaccard": N_("Jaccard index"),
    "interviews_a": N_("Interviews with A"), "interviews_b": N_("Interviews with B"),
    "interviews_for": N_("Interviews for"), "interviews_against": N_("Interviews against"),
    "quotes_for": N_("Quotes for"), "quotes_against": N_("Quotes against"), "evidence": N_("Interviews with evidence"),
    "support_share": N_("Share for"), "status": N_("Status"), "nps": N_("NPS"), "scored": N_("With a score"),
    "promoters": N_("Promoters"), "passives": N_("Passives"), "detractors": N_("Detractors"), "score": N_("Score"),
    "mean_score": N_("Mean score"), "new_pains": N_("New pains"), "new_pain_slugs": N_("Which new pains"),
    "cumulative_pains": N_("Pains so far"), "observed": N_("Pains heard"), "singletons": N_("Heard once"),
    "doubletons": N_("Heard twice"), "chao1": N_("Pains estimated (Chao1)"), "chao1_low": N_("Estimate from"),
    "chao1_high": N_("Estimate to"), "new_pain_chance": N_("Chance of a new pain"), "size": N_("Accounts in segment"),
    "revenue": N_("Revenue of segment"), "accounts": N_("Accounts affected"), "accounts_low": N_("Accounts from"),
    "accounts_high": N_("Accounts to"), "revenue_at_risk": N_("Revenue at stake"), "revenue_low": N_("Revenue from"),
    "revenue_high": N_("Revenue to"), "systemic_threshold": N_("Systemic threshold"),
    "saturation_window": N_("Saturation window"), "hypothesis_min_interviews": N_("Interviews for a hypothesis status"),
    "z": N_("z for 95 %"),
    # channels
    "channel": N_("Channel"), "import": N_("Import"), "item": N_("Item"), "items": N_("Items"), "total": N_("Items in all"),
    "responses": N_("Responses"), "response_id": N_("Response id"), "row": N_("Row in the export"),
    "snippet": N_("Excerpt"), "rank": N_("Rank (bm25)"),  # the search_responses canned query
    # meaning vectors and the build's own tables
    "item_id": N_("Item id"), "part": N_("Part"), "vector": N_("Vector"), "model": N_("Model"),
    "word": N_("Word"), "forms": N_("Dictionary forms"), "key": N_("Key"), "value": N_("Value"),
    "migration_set": N_("Migration set"), "applied_at": N_("Applied at"),
}
