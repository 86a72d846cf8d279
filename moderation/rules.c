/* moderation/rules.c - the rules file: parsing, pcre2 compilation (UTF-8, caseless,
 * JIT), matching under match and depth limits, hit counters.
 *
 * Running 500 JIT patterns one after the other costs tens of microseconds a message,
 * too slow for intake. So at load each pattern is read (conservatively: literals.c)
 * for a set of literals one of which every match must contain; all those literals go
 * into one Aho-Corasick automaton over the case-folded text, and a message runs only
 * the rules whose literal it contains, plus those no literal could be found for. A
 * pattern the reader is unsure of is simply always run: the prefilter never changes a
 * result. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "moderation/mod.h"
#include "moderation/internal.h"
#include "common/log.h"
#include "common/banned.h"

struct rule {
    unsigned line;
    enum mod_rule_action action;
    char reason[MOD_REASON_MAX];
    char *pattern;
    pcre2_code *code;
    int jit;
    int prefiltered;
    _Atomic uint64_t hits;
    _Atomic uint64_t limited;
    _Atomic int disabled;
};

struct mod_rules {
    struct rule *rules;
    size_t n;
    uint32_t match_limit, depth_limit;
    /* the prefilter: a DFA over byte classes */
    uint8_t cls[256];
    size_t ncls;
    int32_t *delta;   /* nstates * ncls */
    int32_t *outhead; /* per state: first index in outs, -1 none */
    int32_t *outlink; /* per state: nearest state on the fail chain with outputs, -1 none */
    struct {
        uint32_t rule;
        int32_t next;
    } * outs;
    size_t nstates;
    uint32_t *always; /* rules without a literal: always run */
    size_t nalways;
};

struct mod_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    uint32_t *stamp; /* per rule: == gen when the prefilter saw its literal */
    size_t nstamp;
    uint32_t gen;
    unsigned char *fold; /* the folded text */
    size_t foldcap;
};

/* ---- the automaton ---- */

struct trie {
    int32_t *child; /* nstates * ncls, -1 absent */
    size_t n, cap, ncls;
};

static int trie_add_state(struct trie *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        int32_t *c = realloc(t->child, cap * t->ncls * sizeof(*c));
        if (!c)
            return -1;
        t->child = c;
        t->cap = cap;
    }
    for (size_t k = 0; k < t->ncls; k++)
        t->child[t->n * t->ncls + k] = -1;
    return (int)t->n++;
}

/* Every byte some literal holds gets a class of its own; all other bytes share class 0. */
static void prefilter_classes(struct mod_rules *r, const struct mod_litset *lits)
{
    memset(r->cls, 0, sizeof(r->cls));
    r->ncls = 1;
    for (size_t i = 0; i < r->n; i++)
        for (int k = 0; lits[i].ok && k < lits[i].n; k++)
            for (int b = 0; b < lits[i].len[k]; b++)
                if (!r->cls[lits[i].s[k][b]])
                    r->cls[lits[i].s[k][b]] = (uint8_t)r->ncls++;
}

/* The automaton while it is built: the trie, and per state the first of its outputs
 * (a list in r->outs, built while inserting). */
struct pf_build {
    struct trie t;
    int32_t *head; /* per state: first index in outs, -1 none */
    size_t headcap, nouts, outcap;
};

/* head grown to n states, the new ones without outputs. */
static int pf_grow_heads(struct pf_build *pb, size_t n)
{
    int32_t *h = realloc(pb->head, n * sizeof(*h));
    if (!h)
        return -1;
    for (size_t z = pb->headcap; z < n; z++)
        h[z] = -1;
    pb->head = h;
    pb->headcap = n;
    return 0;
}

/* One literal of a rule into the trie, and the rule onto the outputs of the state the
 * literal ends in. */
static int pf_insert(struct mod_rules *r, struct pf_build *pb, const unsigned char *lit, int len,
                     uint32_t rule)
{
    struct trie *t = &pb->t;
    int32_t s = 0;
    for (int b = 0; b < len; b++) {
        size_t c = r->cls[lit[b]];
        int32_t nx = t->child[(size_t)s * t->ncls + c];
        if (nx < 0) {
            nx = trie_add_state(t);
            if (nx < 0)
                return -1;
            t->child[(size_t)s * t->ncls + c] = nx;
        }
        s = nx;
    }
    if (t->n > pb->headcap && pf_grow_heads(pb, t->cap))
        return -1;
    if (pb->nouts == pb->outcap) {
        size_t cap = pb->outcap ? pb->outcap * 2 : 64;
        void *o = realloc(r->outs, cap * sizeof(*r->outs));
        if (!o)
            return -1;
        r->outs = o;
        pb->outcap = cap;
    }
    r->outs[pb->nouts].rule = rule;
    r->outs[pb->nouts].next = pb->head[s];
    pb->head[s] = (int32_t)pb->nouts++;
    return 0;
}

/* Breadth first over the trie: the fail links, the nearest state with outputs on each
 * fail chain (r->outlink), and the DFA written over the trie's absent children. */
static int pf_link(struct mod_rules *r, struct pf_build *pb)
{
    struct trie *t = &pb->t;
    const int32_t *head = pb->head;
    int32_t *fail = calloc(t->n, sizeof(*fail)), *queue = calloc(t->n, sizeof(*queue));
    int rc = TL_ENOMEM;
    r->outlink = calloc(t->n, sizeof(*r->outlink));
    if (!fail || !queue || !r->outlink)
        goto out;
    size_t qh = 0, qt = 0;
    r->outlink[0] = -1;
    for (size_t c = 0; c < t->ncls; c++) {
        int32_t s = t->child[c];
        if (s < 0) {
            t->child[c] = 0;
        } else {
            fail[s] = 0;
            r->outlink[s] = -1;
            queue[qt++] = s;
        }
    }
    while (qh < qt) {
        int32_t v = queue[qh++];
        for (size_t c = 0; c < t->ncls; c++) {
            int32_t u = t->child[(size_t)v * t->ncls + c];
            int32_t fv = t->child[(size_t)fail[v] * t->ncls + c];
            if (u < 0) {
                t->child[(size_t)v * t->ncls + c] = fv;
            } else {
                fail[u] = fv;
                r->outlink[u] = head[fv] >= 0 ? fv : r->outlink[fv];
                queue[qt++] = u;
            }
        }
    }
    rc = TL_OK;
out:
    free(fail);
    free(queue);
    return rc;
}

static int build_prefilter(struct mod_rules *r, struct mod_litset *lits)
{
    int rc = TL_ENOMEM;
    struct pf_build pb = {0};
    prefilter_classes(r, lits);
    pb.t.ncls = r->ncls;
    r->always = calloc(r->n + 1, sizeof(*r->always));
    if (!r->always || trie_add_state(&pb.t) < 0)
        goto out;
    for (size_t i = 0; i < r->n; i++) {
        if (!lits[i].ok) {
            r->always[r->nalways++] = (uint32_t)i;
            continue;
        }
        r->rules[i].prefiltered = 1;
        for (int k = 0; k < lits[i].n; k++)
            if (pf_insert(r, &pb, lits[i].s[k], lits[i].len[k], (uint32_t)i))
                goto out;
    }
    if (pb.t.n > pb.headcap && pf_grow_heads(&pb, pb.t.n))
        goto out;
    r->nstates = pb.t.n;
    if ((rc = pf_link(r, &pb)) != TL_OK)
        goto out;
    r->delta = pb.t.child;
    pb.t.child = NULL;
    r->outhead = pb.head;
    pb.head = NULL;
out:
    free(pb.head);
    free(pb.t.child);
    return rc;
}

/* ---- parsing ---- */

static const char *const action_names[] = {NULL, "flag", "hold", "drop", "refuse"};

const char *mod_rule_action_name(enum mod_rule_action a)
{
    return a >= MOD_RULE_FLAG && a <= MOD_RULE_REFUSE ? action_names[a] : "?";
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

void mod_rules_free(struct mod_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        pcre2_code_free(r->rules[i].code);
        free(r->rules[i].pattern);
    }
    free(r->rules);
    free(r->delta);
    free(r->outhead);
    free(r->outlink);
    free(r->outs);
    free(r->always);
    free(r);
}

static int fail_at(struct mod_rules_error *err, struct tl_errinfo *ei, const char *name,
                   unsigned line, unsigned col, int code, const char *what)
{
    if (err) {
        err->line = line;
        err->column = col;
    }
    return tl_errf(ei, code, "%s:%u:%u: %s", name, line, col, what);
}

/* Where the parse is: the file's name (for errors) and the line's number. */
struct rules_at {
    const char *name;
    unsigned line;
    struct mod_rules_error *err;
    struct tl_errinfo *ei;
};

/* One rule line, split: its action, its reason (rlen bytes at r0) and its pattern (from
 * p0 up to pe). */
struct rule_line {
    enum mod_rule_action act;
    size_t r0, rlen, p0, pe;
};

/* Splits the line l (ll bytes, its end of line removed) into rl: "action reason
 * pattern". *skip when it is blank or a comment. A line too long, not UTF-8 or not a
 * rule is an error (at the column where it goes wrong). */
static int rule_line_split(const char *l, size_t ll, const struct rules_at *at,
                           struct rule_line *rl, int *skip)
{
    *skip = 0;
    if (ll > MOD_LINE_MAX)
        return fail_at(at->err, at->ei, at->name, at->line, MOD_LINE_MAX + 1, TL_ETOOBIG,
                       "line too long");
    for (size_t i = 0; i < ll;) {
        size_t from = i;
        if (mod_utf8_next((const unsigned char *)l, ll, &i) <= 0)
            return fail_at(at->err, at->ei, at->name, at->line, (unsigned)from + 1, TL_EPARSE,
                           "not UTF-8 (or a NUL byte)");
    }
    size_t i = 0;
    while (i < ll && is_blank(l[i]))
        i++;
    if (i == ll || l[i] == '#') {
        *skip = 1;
        return TL_OK;
    }
    /* action */
    size_t a0 = i;
    while (i < ll && !is_blank(l[i]))
        i++;
    enum mod_rule_action act = 0;
    for (int k = MOD_RULE_FLAG; k <= MOD_RULE_REFUSE; k++)
        if (strlen(action_names[k]) == i - a0 && memcmp(l + a0, action_names[k], i - a0) == 0)
            act = (enum mod_rule_action)k;
    if (!act)
        return fail_at(at->err, at->ei, at->name, at->line, (unsigned)a0 + 1, TL_EPARSE,
                       "unknown action (flag, hold, drop or refuse)");
    while (i < ll && is_blank(l[i]))
        i++;
    /* reason */
    size_t r0 = i;
    while (i < ll && !is_blank(l[i])) {
        char c = l[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return fail_at(at->err, at->ei, at->name, at->line, (unsigned)i + 1, TL_EPARSE,
                           "reason: only a-z, 0-9, '.', '_' and '-'");
        i++;
    }
    if (i == r0 || i - r0 >= MOD_REASON_MAX)
        return fail_at(at->err, at->ei, at->name, at->line, (unsigned)r0 + 1, TL_EPARSE,
                       i == r0 ? "reason missing" : "reason longer than 63 bytes");
    size_t rlen = i - r0;
    while (i < ll && is_blank(l[i]))
        i++;
    size_t p0 = i, pe = ll;
    while (pe > p0 && is_blank(l[pe - 1]))
        pe--;
    if (pe == p0)
        return fail_at(at->err, at->ei, at->name, at->line, (unsigned)p0 + 1, TL_EPARSE,
                       "pattern missing");
    *rl = (struct rule_line){act, r0, rlen, p0, pe};
    return TL_OK;
}

/* Room in r for one rule more, and in *lits for its literals (*cap: the room of both). */
static int rules_grow(struct mod_rules *r, struct mod_litset **lits, size_t *cap)
{
    if (r->n < *cap)
        return TL_OK;
    size_t ncap = *cap ? *cap * 2 : 64;
    struct rule *nr = realloc(r->rules, ncap * sizeof(*nr));
    struct mod_litset *nl2 = realloc(*lits, ncap * sizeof(*nl2));
    if (nr)
        r->rules = nr;
    if (nl2)
        *lits = nl2;
    if (!nr || !nl2)
        return TL_ENOMEM;
    *cap = ncap;
    return TL_OK;
}

/* The rule rl of line l compiled as r's next (r->n counts it once it owns its pattern),
 * JIT-compiled when it can be, its literals into lits[r->n - 1]. */
static int rule_compile(struct mod_rules *r, struct mod_litset *lits, const char *l,
                        const struct rule_line *rl, pcre2_compile_context *cctx,
                        const struct rules_at *at)
{
    char what[300];
    struct rule *ru = &r->rules[r->n];
    memset(ru, 0, sizeof(*ru));
    ru->line = at->line;
    ru->action = rl->act;
    memcpy(ru->reason, l + rl->r0, rl->rlen);
    ru->reason[rl->rlen] = '\0';
    ru->pattern = strndup(l + rl->p0, rl->pe - rl->p0);
    if (!ru->pattern)
        return TL_ENOMEM;
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    ru->code = pcre2_compile((PCRE2_SPTR)ru->pattern, rl->pe - rl->p0,
                             PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_NEVER_BACKSLASH_C, &ec,
                             &eoff, cctx);
    r->n++; /* owned from here: freed with the set */
    if (!ru->code) {
        PCRE2_UCHAR msg[200];
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "pcre2 error %d", ec);
        snprintf(what, sizeof(what), "pattern: %s", (const char *)msg);
        return fail_at(at->err, at->ei, at->name, at->line, (unsigned)(rl->p0 + eoff) + 1,
                       TL_EPARSE, what);
    }
    ru->jit = pcre2_jit_compile(ru->code, PCRE2_JIT_COMPLETE) == 0;
    if (!ru->jit)
        log_warn("moderation rule not JIT-compiled, interpreted file=%s line=%u", at->name,
                 at->line);
    mod_literals_of(ru->pattern, rl->pe - rl->p0, &lits[r->n - 1]);
    return TL_OK;
}

int mod_rules_parse(const char *buf, size_t len, const char *name, const struct mod_limits *lim,
                    struct mod_rules **out, struct mod_rules_error *err, struct tl_errinfo *ei)
{
    int rc = TL_ENOMEM;
    struct mod_rules *r = NULL;
    struct mod_litset *lits = NULL;
    pcre2_compile_context *cctx = NULL;
    size_t cap = 0;

    *out = NULL;
    if (err)
        err->line = err->column = 0;
    if (!name)
        name = "rules";
    struct rules_at at = {.name = name, .line = 0, .err = err, .ei = ei};
    if (len > MOD_FILE_MAX) {
        rc = fail_at(err, ei, name, 0, 0, TL_ETOOBIG, "file too large");
        goto out;
    }
    r = calloc(1, sizeof(*r));
    cctx = pcre2_compile_context_create(NULL);
    if (!r || !cctx)
        goto out;
    pcre2_set_max_pattern_length(cctx, MOD_LINE_MAX);
    r->match_limit = lim && lim->match_limit ? lim->match_limit : MOD_DEFAULT_MATCH_LIMIT;
    r->depth_limit = lim && lim->depth_limit ? lim->depth_limit : MOD_DEFAULT_DEPTH_LIMIT;

    for (size_t pos = 0; pos < len;) {
        const char *l = buf + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - l) : len - pos;
        struct rule_line rl = {0, 0, 0, 0, 0};
        int skip = 0;
        pos += ll + (nl != NULL);
        at.line++;
        if (ll > 0 && l[ll - 1] == '\r')
            ll--;
        if ((rc = rule_line_split(l, ll, &at, &rl, &skip)) != TL_OK)
            goto out;
        if (skip)
            continue;
        if (r->n == MOD_RULES_MAX) {
            rc = fail_at(err, ei, name, at.line, 1, TL_ETOOBIG, "too many rules");
            goto out;
        }
        if ((rc = rules_grow(r, &lits, &cap)) != TL_OK ||
            (rc = rule_compile(r, lits, l, &rl, cctx, &at)) != TL_OK)
            goto out;
    }
    rc = build_prefilter(r, lits);
    if (rc != TL_OK)
        goto out;
    *out = r;
    r = NULL;
out:
    if (rc == TL_ENOMEM)
        tl_errf(ei, rc, "%s: out of memory", name);
    mod_rules_free(r);
    free(lits);
    pcre2_compile_context_free(cctx);
    return rc;
}

int mod_rules_load(const char *path, const struct mod_limits *lim, struct mod_rules **out,
                   struct mod_rules_error *err, struct tl_errinfo *ei)
{
    int rc = TL_EIO;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = fopen(path, "rb");

    *out = NULL;
    if (err)
        err->line = err->column = 0;
    if (!f) {
        rc = tl_errf(ei, TL_EIO, "%s: cannot open", path);
        goto out;
    }
    buf = malloc(MOD_FILE_MAX + 1);
    if (!buf) {
        rc = TL_ENOMEM;
        goto out;
    }
    n = fread(buf, 1, MOD_FILE_MAX + 1, f);
    if (ferror(f)) {
        rc = tl_errf(ei, TL_EIO, "%s: read error", path);
        goto out;
    }
    rc = mod_rules_parse(buf, n, path, lim, out, err, ei);
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

size_t mod_rules_count(const struct mod_rules *r)
{
    return r ? r->n : 0;
}

void mod_rule_info(const struct mod_rules *r, size_t i, struct mod_rule_info *out)
{
    struct rule *ru = &r->rules[i];
    out->line = ru->line;
    out->action = ru->action;
    out->reason = ru->reason;
    out->pattern = ru->pattern;
    out->hits = atomic_load_explicit(&ru->hits, memory_order_relaxed);
    out->limited = atomic_load_explicit(&ru->limited, memory_order_relaxed);
    out->disabled = atomic_load_explicit(&ru->disabled, memory_order_relaxed);
    out->prefiltered = ru->prefiltered;
}

/* ---- matching ---- */

struct mod_scratch *mod_scratch_new(void)
{
    struct mod_scratch *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->md = pcre2_match_data_create(1, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    s->jstack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    if (!s->md || !s->mctx || !s->jstack) {
        mod_scratch_free(s);
        return NULL;
    }
    pcre2_jit_stack_assign(s->mctx, NULL, s->jstack);
    return s;
}

void mod_scratch_free(struct mod_scratch *s)
{
    if (!s)
        return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->jstack);
    free(s->stamp);
    free(s->fold);
    free(s);
}

/* Folds text into s->fold; returns 0 when text is not UTF-8. */
static int fold_text(struct mod_scratch *s, const char *text, size_t len, size_t *outlen)
{
    if (len * 3 / 2 + 8 > s->foldcap) {
        size_t cap = len * 3 / 2 + 64;
        unsigned char *f = realloc(s->fold, cap);
        if (!f)
            return -1;
        s->fold = f;
        s->foldcap = cap;
    }
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80) {
            s->fold[o++] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        int32_t cp = mod_utf8_next((const unsigned char *)text, len, &i);
        if (cp < 0)
            return 0;
        o += mod_utf8_put((char *)s->fold + o, mod_fold((uint32_t)cp));
    }
    *outlen = o;
    return 1;
}

static int run_rule(const struct mod_rules *r, struct mod_scratch *s, uint32_t k, const char *text,
                    size_t len)
{
    struct rule *ru = &r->rules[k];
    if (atomic_load_explicit(&ru->disabled, memory_order_relaxed))
        return 0;
    int rc;
    if (ru->jit)
        rc = pcre2_jit_match(ru->code, (PCRE2_SPTR)text, len, 0, 0, s->md, s->mctx);
    else
        rc = pcre2_match(ru->code, (PCRE2_SPTR)text, len, 0, PCRE2_NO_UTF_CHECK, s->md, s->mctx);
    if (rc >= 0) {
        atomic_fetch_add_explicit(&ru->hits, 1, memory_order_relaxed);
        return 1;
    }
    if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
        return 0;
    atomic_fetch_add_explicit(&ru->limited, 1, memory_order_relaxed);
    if (atomic_exchange(&ru->disabled, 1) == 0) {
        PCRE2_UCHAR msg[120];
        if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "pcre2 error %d", rc);
        log_warn("moderation rule disabled: over its limits line=%u reason=%s error=\"%s\"",
                 ru->line, ru->reason, (const char *)msg);
    }
    return 0;
}

size_t mod_rules_match(const struct mod_rules *r, struct mod_scratch *s, const char *text,
                       size_t len, struct mod_hit *hits, size_t max)
{
    size_t nhit = 0, flen = 0;
    if (!r || r->n == 0 || !s)
        return 0;
    if (!text)
        text = "", len = 0;
    if (s->nstamp < r->n) {
        uint32_t *st = calloc(r->n, sizeof(*st));
        if (!st)
            return 0;
        free(s->stamp);
        s->stamp = st;
        s->nstamp = r->n;
        s->gen = 0;
    }
    if (++s->gen == 0) {
        memset(s->stamp, 0, s->nstamp * sizeof(*s->stamp));
        s->gen = 1;
    }
    if (fold_text(s, text, len, &flen) != 1)
        return 0;
    pcre2_set_match_limit(s->mctx, r->match_limit);
    pcre2_set_depth_limit(s->mctx, r->depth_limit);

    int32_t st = 0;
    const int32_t *delta = r->delta;
    for (size_t i = 0; i < flen; i++) {
        st = delta[(size_t)st * r->ncls + r->cls[s->fold[i]]];
        for (int32_t o = r->outhead[st] >= 0 ? st : r->outlink[st]; o >= 0; o = r->outlink[o])
            for (int32_t e = r->outhead[o]; e >= 0; e = r->outs[e].next)
                s->stamp[r->outs[e].rule] = s->gen;
    }
    for (size_t k = 0; k < r->nalways; k++)
        s->stamp[r->always[k]] = s->gen;
    for (uint32_t k = 0; k < r->n; k++) {
        if (s->stamp[k] != s->gen || !run_rule(r, s, k, text, len))
            continue;
        if (nhit < max) {
            hits[nhit].rule = k;
            hits[nhit].action = r->rules[k].action;
            hits[nhit].reason = r->rules[k].reason;
        }
        nhit++;
    }
    return nhit;
}
