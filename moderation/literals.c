/* moderation/literals.c - the literals of a rule's pattern, for the rules' prefilter
 * (rules.c): read conservatively from the pattern, a set of literals one of which every
 * match must contain, case-folded; when the reader is unsure of a construct, no set
 * (the rule is always run). */
#include <stdint.h>
#include <string.h>

#include "moderation/internal.h"
#include "common/banned.h"

struct lp {
    const unsigned char *p;
    size_t n, i;
    int depth;
    int bad; /* a construct the reader does not handle: the rule is always run */
};

static int lit_minlen(const struct mod_litset *l)
{
    int m = MOD_LIT_LEN;
    for (int k = 0; k < l->n; k++)
        if (l->len[k] < m)
            m = l->len[k];
    return m;
}

static void lit_consider(struct mod_litset *best, const struct mod_litset *c)
{
    if (!c->ok || c->n == 0)
        return;
    if (!best->ok || lit_minlen(c) > lit_minlen(best) ||
        (lit_minlen(c) == lit_minlen(best) && c->n < best->n))
        *best = *c;
}

static void lp_alt(struct lp *x, struct mod_litset *out);

/* Skips a character class starting at '['. */
static void lp_class(struct lp *x)
{
    x->i++;
    if (x->i < x->n && x->p[x->i] == '^')
        x->i++;
    if (x->i < x->n && x->p[x->i] == ']')
        x->i++;
    while (x->i < x->n && x->p[x->i] != ']') {
        if (x->p[x->i] == '\\')
            x->i++;
        else if (x->p[x->i] == '[' && x->i + 1 < x->n && x->p[x->i + 1] == ':') {
            const unsigned char *e = memchr(x->p + x->i + 2, ']', x->n - x->i - 2);
            if (!e) {
                x->bad = 1;
                return;
            }
            x->i = (size_t)(e - x->p);
        }
        x->i++;
    }
    if (x->i >= x->n)
        x->bad = 1;
    else
        x->i++;
}

/* Reads a quantifier if one follows: returns 1 and its minimum in *min. */
static int lp_quant(struct lp *x, unsigned *min)
{
    if (x->i >= x->n)
        return 0;
    unsigned char c = x->p[x->i];
    if (c == '?' || c == '*' || c == '+') {
        *min = c == '+';
        x->i++;
    } else if (c == '{') {
        size_t j = x->i + 1;
        unsigned v = 0;
        int digits = 0;
        while (j < x->n && x->p[j] >= '0' && x->p[j] <= '9' && digits < 6)
            v = v * 10 + (x->p[j++] - '0'), digits++;
        if (!digits) {
            x->bad = 1;
            return 0;
        }
        if (j < x->n && x->p[j] == ',') {
            j++;
            while (j < x->n && x->p[j] >= '0' && x->p[j] <= '9')
                j++;
        }
        if (j >= x->n || x->p[j] != '}') {
            x->bad = 1;
            return 0;
        }
        *min = v;
        x->i = j + 1;
    } else {
        return 0;
    }
    if (x->i < x->n && (x->p[x->i] == '?' || x->p[x->i] == '+'))
        x->i++;
    return 1;
}

enum atom { A_LIT, A_OTHER, A_ASSERT, A_GROUP };

/* A group at '(' (plain or "(?:"): its literals into *g. */
static enum atom lp_group(struct lp *x, struct mod_litset *g)
{
    if (x->i + 1 < x->n && x->p[x->i + 1] == '?') {
        if (x->i + 2 >= x->n || x->p[x->i + 2] != ':') {
            x->bad = 1;
            return A_OTHER;
        }
        x->i += 3;
    } else {
        x->i++;
    }
    if (++x->depth > 32) {
        x->bad = 1;
        return A_OTHER;
    }
    lp_alt(x, g);
    x->depth--;
    if (x->bad || x->i >= x->n || x->p[x->i] != ')') {
        x->bad = 1;
        return A_OTHER;
    }
    x->i++;
    return A_GROUP;
}

/* An escape at '\\': a class shorthand, a word boundary, or an escaped character (its
 * code point into *cp); other letters and digits (backreferences, \p...) are not read. */
static enum atom lp_escape(struct lp *x, int32_t *cp)
{
    if (x->i + 1 >= x->n) {
        x->bad = 1;
        return A_OTHER;
    }
    unsigned char e = x->p[x->i + 1];
    if (e < 0x80 && ((e >= '0' && e <= '9') || ((e | 32) >= 'a' && (e | 32) <= 'z'))) {
        enum atom kind = A_OTHER;
        if (e == 'b' || e == 'B')
            kind = A_ASSERT;
        else if (!strchr("dDwWsShHvVR", e))
            x->bad = 1;
        x->i += 2;
        return kind;
    }
    x->i++;
    *cp = mod_utf8_next(x->p, x->n, &x->i);
    return A_LIT;
}

/* One atom at x->i: a group (its literals into *g), a class, an escape, an assertion,
 * any character, or a literal character (its code point into *cp). Sets x->bad on what
 * the reader does not handle, a literal that is not UTF-8 among them. */
static enum atom lp_atom(struct lp *x, struct mod_litset *g, int32_t *cp)
{
    enum atom kind = A_OTHER;
    unsigned char c = x->p[x->i];
    if (c == '(') {
        kind = lp_group(x, g);
    } else if (c == '[') {
        lp_class(x);
    } else if (c == '\\') {
        kind = lp_escape(x, cp);
    } else if (c == '.') {
        x->i++;
    } else if (c == '^' || c == '$') {
        x->i++;
        kind = A_ASSERT;
    } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        x->bad = 1;
    } else {
        *cp = mod_utf8_next(x->p, x->n, &x->i);
        kind = A_LIT;
    }
    if (kind == A_LIT && *cp < 0)
        x->bad = 1;
    return kind;
}

/* A run of literal characters, folded, as the sequence is read. */
struct lp_run {
    unsigned char b[MOD_LIT_LEN];
    size_t n;
};

/* The run so far as a candidate for best; the run starts over. */
static void lp_flush(struct lp_run *run, struct mod_litset *best)
{
    if (run->n > 0) {
        struct mod_litset one;
        one.ok = 1, one.n = 1, one.len[0] = (uint8_t)run->n;
        memcpy(one.s[0], run->b, run->n);
        lit_consider(best, &one);
    }
    run->n = 0;
}

/* A sequence up to '|' or ')': the best of its runs of required literal characters and
 * of its required groups' sets. */
static void lp_seq(struct lp *x, struct mod_litset *best)
{
    struct lp_run run;
    struct mod_litset g;
    run.n = 0;
    best->ok = 0;
    best->n = 0;
    while (!x->bad && x->i < x->n && x->p[x->i] != '|' && x->p[x->i] != ')') {
        int32_t cp = 0;
        enum atom kind = lp_atom(x, &g, &cp);
        unsigned min = 1;
        int q = x->bad ? 0 : lp_quant(x, &min);
        if (x->bad)
            break;
        if (kind == A_LIT && min > 0 && mod_fold_trusted((uint32_t)cp)) {
            char u[4];
            size_t ul = mod_utf8_put(u, mod_fold((uint32_t)cp));
            if (run.n + ul > MOD_LIT_LEN - 1)
                lp_flush(&run, best);
            memcpy(run.b + run.n, u, ul);
            run.n += ul;
            if (q)
                lp_flush(&run, best);
        } else {
            lp_flush(&run, best);
            if (kind == A_GROUP && min > 0)
                lit_consider(best, &g);
        }
    }
    lp_flush(&run, best);
}

static void lp_alt(struct lp *x, struct mod_litset *out)
{
    out->ok = 1;
    out->n = 0;
    for (;;) {
        struct mod_litset s;
        lp_seq(x, &s);
        if (x->bad)
            return;
        if (!s.ok || out->n + s.n > MOD_LIT_N)
            out->ok = 0;
        if (out->ok) {
            for (int k = 0; k < s.n; k++) {
                out->len[out->n] = s.len[k];
                memcpy(out->s[out->n], s.s[k], s.len[k]);
                out->n++;
            }
        }
        if (x->i < x->n && x->p[x->i] == '|') {
            x->i++;
            continue;
        }
        return;
    }
}

void mod_literals_of(const char *pattern, size_t len, struct mod_litset *out)
{
    struct lp x = {.p = (const unsigned char *)pattern, .n = len};
    lp_alt(&x, out);
    if (x.bad || x.i != x.n)
        out->ok = 0;
}
