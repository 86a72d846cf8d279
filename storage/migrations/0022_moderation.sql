-- 0022_moderation.sql - what moderation at intake keeps: the reporter's standing (the
-- shadow-ban and the one ban notice beside the ban columns reporters already had), the
-- per-reporter rate state, the window of recent messages from new reporters that flood
-- campaigns are matched against, the campaigns, each moderated report's verdict, and
-- the rules' hit counts.
--
-- Why tables and not memory: the rate limits must survive a restart (a flood would
-- otherwise be let through by every restart), several processes share the work (a
-- campaign's messages arrive at different workers and processes), and a moderator
-- works on held reports and campaigns long after the process that held them. A held
-- report is a reports row with status 'held' (storage/schema/reports_valid.sql): it is
-- recorded as evidence like every report, and the queue's index, claims, feeds and the
-- analysts' lists, which read status 'new' or the decided statuses, never see it.

ALTER TABLE reporters
    ADD COLUMN shadow_banned boolean DEFAULT false NOT NULL,
    ADD COLUMN ban_notice_at timestamp with time zone;

-- The token buckets of mod_rate_state (moderation/mod.h) as JSON, written in the
-- transaction of the report that spent a token.
CREATE TABLE reporter_rate (
    reporter text NOT NULL,
    state jsonb NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT reporter_rate_pkey PRIMARY KEY (reporter),
    CONSTRAINT reporter_rate_reporter_fkey FOREIGN KEY (reporter) REFERENCES reporters(pseudonym)
);

CREATE TABLE mod_campaigns (
    id bigserial,
    status text DEFAULT 'held' NOT NULL,
    kind text DEFAULT 'text' NOT NULL,
    sample text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_at timestamp with time zone DEFAULT now() NOT NULL,
    decided_by text,
    decided_at timestamp with time zone,
    CONSTRAINT mod_campaigns_pkey PRIMARY KEY (id),
    CONSTRAINT mod_campaigns_status CHECK (status IN ('held', 'released', 'rejected')),
    CONSTRAINT mod_campaigns_kind CHECK (kind IN ('text', 'photo'))
);
CREATE INDEX mod_campaigns_held ON mod_campaigns USING btree (last_at DESC) WHERE (status = 'held');

-- One row per report moderation spoke about (an accepted report has none). resolution:
-- what a moderator did with a held report (released into the queue, rejected).
CREATE TABLE mod_verdicts (
    report_id bigint NOT NULL,
    verdict text NOT NULL,
    reasons text[] DEFAULT '{}'::text[] NOT NULL,
    campaign_id bigint,
    at timestamp with time zone DEFAULT now() NOT NULL,
    resolution text,
    resolved_by text,
    resolved_at timestamp with time zone,
    CONSTRAINT mod_verdicts_pkey PRIMARY KEY (report_id),
    CONSTRAINT mod_verdicts_report_fkey FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE,
    CONSTRAINT mod_verdicts_campaign_fkey FOREIGN KEY (campaign_id) REFERENCES mod_campaigns(id),
    CONSTRAINT mod_verdicts_verdict CHECK (verdict IN ('flag', 'hold', 'drop', 'refuse',
        'rate_limited', 'banned', 'shadow_banned')),
    CONSTRAINT mod_verdicts_resolution CHECK (resolution IN ('released', 'rejected'))
);
CREATE INDEX mod_verdicts_open ON mod_verdicts USING btree (at DESC, report_id) WHERE (resolution IS NULL);
CREATE INDEX mod_verdicts_campaign ON mod_verdicts USING btree (campaign_id) WHERE (campaign_id IS NOT NULL);

-- The campaign window: the signature (moderation/mod.h struct mod_sig) of each recent
-- report of a new reporter (texts long enough to match, or a photo). Rows older than the longest window are deleted as new ones
-- come (mod_apply_verdict), so a read of the window is one short index range.
CREATE TABLE mod_recent (
    id bigserial,
    reporter text NOT NULL,
    report_id bigint,
    at timestamp with time zone DEFAULT now() NOT NULL,
    text_len integer NOT NULL,
    has_photo boolean DEFAULT false NOT NULL,
    phash bigint,
    minhash bytea,
    bands bigint[],
    campaign_id bigint,
    CONSTRAINT mod_recent_pkey PRIMARY KEY (id),
    CONSTRAINT mod_recent_report_fkey FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE
);
CREATE INDEX mod_recent_at ON mod_recent USING btree (at);
-- A message reads only the rows that share a band (two minhash slots) with its own
-- signature: texts 60 % alike share one with probability 0.97, unrelated texts 0.02, so
-- a window of thousands of unrelated new reporters' messages costs a few rows.
CREATE INDEX mod_recent_bands ON mod_recent USING gin (bands);

-- Matches per rule reason since the database began (the moderators' page shows them
-- beside the rules in force; a process's own counters restart with it).
CREATE TABLE mod_rule_hits (
    reason text NOT NULL,
    hits bigint DEFAULT 0 NOT NULL,
    last_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT mod_rule_hits_pkey PRIMARY KEY (reason)
);
