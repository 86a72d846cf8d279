/* moderation/mod.h - the pure moderation library: rules (pcre2, JIT, bounded), text
 * hygiene, rate-limit maths, flood-campaign matching and the verdict. A message, the
 * reporter's standing and recent history in; a verdict with reasons out. No database,
 * no network, no globals: the caller loads, persists and writes.
 *
 * Rules file format (see deploy/moderation.rules for a realistic sample):
 *   - UTF-8 text, one rule a line; blank lines and lines whose first non-blank
 *     character is '#' are ignored. At most MOD_RULES_MAX rules, lines of at most
 *     MOD_LINE_MAX bytes, files of at most MOD_FILE_MAX bytes.
 *   - A rule line is three fields separated by blanks (spaces or tabs):
 *         ACTION  REASON  PATTERN
 *     ACTION is one of flag (mark for the analyst), hold (keep for a moderator),
 *     drop (record, say nothing, never queue), refuse (record, reply politely).
 *     REASON is a short id of [a-z0-9._-] (1-63 bytes), shown to moderators and
 *     counted per rule. PATTERN is the rest of the line, trailing blanks removed: a
 *     pcre2 pattern, compiled UTF-8 and caseless and JIT-compiled once at load.
 *   - Every rule that matches is reported; the strongest action wins
 *     (refuse > drop > hold > flag).
 * A broken file is refused as a whole with the 1-based line and column (in bytes) of
 * the first fault; the caller keeps the rule set it already had. */
#ifndef TL_MOD_H
#define TL_MOD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/tbucket.h"

#define MOD_RULES_MAX 10000
#define MOD_LINE_MAX 4096
#define MOD_FILE_MAX (4 << 20)
#define MOD_REASON_MAX 64

/* Telegram's limits, in UTF-16 code units. */
#define MOD_TEXT_MAX_UTF16 4096
#define MOD_CAPTION_MAX_UTF16 1024

/* ---- rules ---- */

/* Ordered by strength: a higher value overrides a lower one. */
enum mod_rule_action {
    MOD_RULE_FLAG = 1,
    MOD_RULE_HOLD = 2,
    MOD_RULE_DROP = 3,
    MOD_RULE_REFUSE = 4
};

/* Per-match budgets: pcre2's match limit (backtracking steps) and depth limit. */
struct mod_limits {
    uint32_t match_limit; /* 0: MOD_DEFAULT_MATCH_LIMIT */
    uint32_t depth_limit; /* 0: MOD_DEFAULT_DEPTH_LIMIT */
};
#define MOD_DEFAULT_MATCH_LIMIT 100000u
#define MOD_DEFAULT_DEPTH_LIMIT 2000u

struct mod_rules; /* immutable once loaded, except the atomic counters and disabled flags */

/* Where a rules file broke, beside ei->msg. */
struct mod_rules_error {
    unsigned line;   /* 1-based; 0 when the fault is not on a line (size, memory) */
    unsigned column; /* 1-based byte column */
};

/* Parses and compiles a rules file held in buf[0..len). On success *out is a new set
 * (free with mod_rules_free); on error *out is NULL, err (NULL allowed) has the line
 * and column, ei->msg says what is wrong and where, and nothing the caller holds is
 * touched: keep the old set. name is used in messages only (NULL: "rules"). */
int mod_rules_parse(const char *buf, size_t len, const char *name, const struct mod_limits *lim,
                    struct mod_rules **out, struct mod_rules_error *err,
                    struct tl_errinfo *ei) TL_WUR;

/* Reads path and calls mod_rules_parse. Same ownership. */
int mod_rules_load(const char *path, const struct mod_limits *lim, struct mod_rules **out,
                   struct mod_rules_error *err, struct tl_errinfo *ei) TL_WUR;

void mod_rules_free(struct mod_rules *r);

size_t mod_rules_count(const struct mod_rules *r);

/* One rule as the moderators' page shows it; pointers borrowed from r. */
struct mod_rule_info {
    unsigned line;
    enum mod_rule_action action;
    const char *reason;
    const char *pattern;
    uint64_t hits;    /* matches since load */
    uint64_t limited; /* matches that hit the limits */
    int disabled;     /* 1 once it hit a limit: never run again in this set */
    int prefiltered;  /* 1 when a required literal lets most texts skip it */
};
void mod_rule_info(const struct mod_rules *r, size_t i, struct mod_rule_info *out);

/* Per-thread working memory for matching (pcre2 match data, the candidate set).
 * Returns a new scratch or NULL on allocation failure; free with mod_scratch_free. */
struct mod_scratch *mod_scratch_new(void);
void mod_scratch_free(struct mod_scratch *s);

struct mod_hit {
    uint32_t rule; /* index, for mod_rule_info */
    enum mod_rule_action action;
    const char *reason; /* borrowed from the rule set */
};

/* Runs every enabled rule on text[0..len) (UTF-8; invalid UTF-8 is matched by no
 * rule). Stores up to max hits in hits[] in rule order and returns how many rules
 * matched (may exceed max). A rule that exceeds its limits counts as no match, is
 * disabled for the life of the set and is logged once. Thread-safe with one scratch
 * per thread. */
size_t mod_rules_match(const struct mod_rules *r, struct mod_scratch *s, const char *text,
                       size_t len, struct mod_hit *hits, size_t max);

const char *mod_rule_action_name(enum mod_rule_action a);

/* ---- text hygiene ---- */

/* The text as moderators and analysts see it: C0/C1 controls except tab and newline
 * become U+FFFD, bidi embeddings/overrides/isolates and marks (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069) are removed, U+2028/U+2029 become newlines, invalid
 * UTF-8 bytes become U+FFFD. The raw text is the caller's to keep as evidence.
 * Returns a new NUL-terminated string in *out (free with free()); *neutralised (NULL
 * allowed) gets how many code points were replaced or removed. */
int mod_text_display(const char *text, size_t len, char **out, size_t *neutralised) TL_WUR;

/* Length in UTF-16 code units, as Telegram counts (a code point above U+FFFF is 2). */
size_t mod_text_utf16_len(const char *text, size_t len);

/* Bytes of the longest prefix of text that holds at most max_units UTF-16 code units
 * and ends on a code point boundary. */
size_t mod_text_bound(const char *text, size_t len, size_t max_units);

struct mod_link {
    size_t off, len; /* bytes, in the text given */
};
#define MOD_LINKS_MAX 32

/* Finds links (http://, https://, tg://, www., t.me/) and @channel mentions (a
 * Telegram username: 5-32 letters, digits, underscores) in text; stores up to max in
 * links[] (trailing punctuation and closing brackets trimmed) and returns how many
 * were found (may exceed max). */
size_t mod_links_find(const char *text, size_t len, struct mod_link *links, size_t max);

/* ---- rate-limit maths ---- */

#define MOD_RATE_CATEGORIES 16

struct mod_rate_cfg {
    double per_hour, burst;         /* an established reporter */
    double new_per_hour, new_burst; /* a new one: stricter */
    int64_t new_for_s;              /* a reporter is new for this long after first seen */
    double new_below_reputation;    /* ...or while their reputation is below this */
    size_t ncat;                    /* per category, slots 0..ncat-1 (the caller's order) */
    struct {
        double per_hour, burst; /* 0: no limit for that category */
    } cat[MOD_RATE_CATEGORIES];
};

/* What the caller persists per reporter (plain numbers, wall-clock microseconds). */
struct mod_rate_state {
    int initialised;
    struct tl_tbucket all;
    struct tl_tbucket cat[MOD_RATE_CATEGORIES];
};

/* Takes one message at now_us (wall clock, microseconds) for a reporter who is new or
 * not, in category slot cat (-1: none): 0 when allowed (tokens taken from the reporter's
 * bucket and the category's), else the microseconds until it would be (nothing taken).
 * The buckets take the rate that applies now: a reporter who stops being new gets the
 * established rate from the next message on. */
int64_t mod_rate_take(const struct mod_rate_cfg *cfg, struct mod_rate_state *st, int is_new,
                      int cat, int64_t now_us);

/* ---- campaigns ---- */

/* Normalised text for campaign matching: case folded (Latin, Cyrillic, with Cyrillic
 * look-alikes of Latin letters folded to them), every run of digits as one '0', emoji,
 * symbols and punctuation dropped, blanks collapsed to one space, trimmed.
 * Returns a new NUL-terminated string in *out (free with free()). */
int mod_text_normalise(const char *text, size_t len, char **out) TL_WUR;

/* The text as a duplicate's is compared with its reporter's earlier report's: case
 * folded (mod_fold), runs of blanks one space, leading and trailing blanks dropped, and
 * the punctuation, symbols and emoji after the last letter or digit dropped (kept when
 * there is no letter or digit); the words, digits and the marks between them unchanged
 * ("3 танки" and "5 танків" stay apart). Returns a new NUL-terminated string in *out
 * (free with free()), NULL for a NULL or blank text. */
int mod_text_fold_key(const char *text, size_t len, char **out) TL_WUR;

#define MOD_SIG_K 64 /* minhash slots */

/* A message's signature: a minhash of the normalised text's 4-code-point shingles and
 * the photo's 64-bit perceptual hash (media_phash). Plain data, fit to persist. */
struct mod_sig {
    uint32_t text_len; /* code points of normalised text; 0: no text signature */
    uint32_t has_photo;
    uint64_t phash;
    uint32_t minhash[MOD_SIG_K];
};

/* Fills sig from the raw text (normalised inside; NULL/0 for none) and a photo hash. */
int mod_sig_make(const char *text, size_t len, int has_photo, uint64_t phash,
                 struct mod_sig *sig) TL_WUR;

/* Estimated Jaccard similarity of two text signatures in [0,1]; 0 if either has none. */
double mod_sig_similarity(const struct mod_sig *a, const struct mod_sig *b);

/* Bits that differ between two 64-bit perceptual hashes. */
int mod_phash_distance(uint64_t a, uint64_t b);

struct mod_campaign_cfg {
    double min_similarity;  /* text: estimated Jaccard at least this (e.g. 0.5) */
    uint32_t min_text_len;  /* texts shorter than this (code points) never match */
    int max_phash_distance; /* photos: at most this many bits apart (e.g. 6) */
    uint32_t min_reporters; /* distinct reporters, this one included, to make a campaign */
    int64_t window_us;      /* how far back the window reaches */
};

/* A recent message from a new reporter, as the caller keeps them. */
struct mod_recent {
    struct mod_sig sig;
    int64_t reporter;
    int64_t at_us;
    int64_t campaign; /* the campaign it belongs to, 0 if none */
};

struct mod_campaign_result {
    int joins;          /* 1: the message belongs to a campaign */
    int64_t campaign;   /* the existing campaign to join; 0: a new one (from matched[]) */
    size_t nmatched;    /* window entries similar to the message (may exceed max) */
    uint32_t reporters; /* distinct reporters among them and the message's own */
};

/* Compares sig (from reporter, at now_us) with the window; stores the indexes of the
 * similar entries in matched[] (up to max) so the caller can gather them into a new
 * campaign. The message joins when similar messages from at least min_reporters
 * distinct reporters (its own included) lie within window_us, or when a similar entry
 * already belongs to a campaign (that campaign is returned). Pure. */
void mod_campaign_check(const struct mod_campaign_cfg *cfg, const struct mod_sig *sig,
                        int64_t reporter, int64_t now_us, const struct mod_recent *window, size_t n,
                        size_t *matched, size_t max, struct mod_campaign_result *out);

/* ---- verdict ---- */

enum mod_verdict_kind {
    MOD_ACCEPT = 0,
    MOD_FLAG = 1,
    MOD_HOLD = 2,
    MOD_DROP = 3,
    MOD_REFUSE = 4,
    MOD_RATE_LIMITED = 5,
    MOD_BANNED = 6,
    MOD_SHADOW_BANNED = 7,
};
const char *mod_verdict_name(enum mod_verdict_kind k);

enum mod_ban { MOD_BAN_NONE = 0, MOD_BAN_OPEN = 1, MOD_BAN_SHADOW = 2 };

struct mod_standing {
    double reputation; /* 0 neutral; below zero: distrusted */
    enum mod_ban ban;
    int64_t first_seen_us; /* wall clock */
    uint32_t reports, confirmed, rejected;
};

struct mod_message {
    const char *text; /* UTF-8, may be NULL */
    size_t len;
    int is_caption;
    int has_photo;
    uint64_t phash;
    int category; /* rate-limit slot, -1: none */
    int64_t reporter;
    int64_t at_us; /* wall clock */
};

/* The reporter's and the bot's recent history: the rate state (updated in place; the
 * caller persists it) and the window of recent messages from new reporters. */
struct mod_history {
    struct mod_rate_state *rate;
    const struct mod_recent *window;
    size_t nwindow;
};

struct mod_policy {
    const struct mod_rules *rules; /* NULL: no rules */
    struct mod_rate_cfg rate;
    struct mod_campaign_cfg campaign;
    double flag_below_reputation; /* accepted reports of a reporter below this are flagged */
};

#define MOD_REASONS_MAX 8
#define MOD_MATCHED_MAX 256

struct mod_verdict {
    enum mod_verdict_kind kind;
    size_t nreasons;
    char reasons[MOD_REASONS_MAX][MOD_REASON_MAX]; /* "rule:scam.crypto", "campaign", ... */
    int64_t retry_after_us;                        /* MOD_RATE_LIMITED: when to try again */
    int is_new;                                    /* the reporter counted as new */
    struct mod_campaign_result campaign;           /* campaign.joins: held as a campaign */
    size_t matched[MOD_MATCHED_MAX];               /* window entries of a new campaign */
    struct mod_sig sig;                            /* the message's signature, to keep */
};

/* Decides what becomes of a message. Order: a ban (open or shadow) is final; then the
 * rate limit (nothing else is spent on a refused message); then the length Telegram
 * allows; then the rules (the strongest action); then a campaign among new reporters
 * (hold); then a low reputation (flag). Every step that speaks adds a reason. Pure but
 * for hist->rate (updated), the rules' counters and s (working memory). */
int mod_decide(const struct mod_policy *p, struct mod_scratch *s, const struct mod_message *m,
               const struct mod_standing *st, const struct mod_history *hist,
               struct mod_verdict *out) TL_WUR;

#endif
