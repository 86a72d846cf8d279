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

static void lp_seq(struct lp *x, struct mod_litset *best)
{
    unsigned char run[MOD_LIT_LEN];
    size_t rl = 0;
    struct mod_litset one, g;
    best->ok = 0;
    best->n = 0;
#define FLUSH()                                                                                    \
    do {                                                                                           \
        if (rl > 0) {                                                                              \
            one.ok = 1, one.n = 1, one.len[0] = (uint8_t)rl;                                       \
            memcpy(one.s[0], run, rl);                                                             \
            lit_consider(best, &one);                                                              \
        }                                                                                          \
        rl = 0;                                                                                    \
    } while (0)
    while (!x->bad && x->i < x->n && x->p[x->i] != '|' && x->p[x->i] != ')') {
        unsigned char c = x->p[x->i];
        enum atom kind = A_OTHER;
        int32_t cp = 0;
        if (c == '(') {
            if (x->i + 1 < x->n && x->p[x->i + 1] == '?') {
                if (x->i + 2 < x->n && x->p[x->i + 2] == ':')
                    x->i += 3;
                else {
                    x->bad = 1;
                    break;
                }
            } else {
                x->i++;
            }
            if (++x->depth > 32) {
                x->bad = 1;
                break;
            }
            lp_alt(x, &g);
            x->depth--;
            if (x->bad || x->i >= x->n || x->p[x->i] != ')') {
                x->bad = 1;
                break;
            }
            x->i++;
            kind = A_GROUP;
        } else if (c == '[') {
            lp_class(x);
        } else if (c == '\\') {
            if (x->i + 1 >= x->n) {
                x->bad = 1;
                break;
            }
            unsigned char e = x->p[x->i + 1];
            if (e < 0x80 && ((e >= '0' && e <= '9') || ((e | 32) >= 'a' && (e | 32) <= 'z'))) {
                if (strchr("dDwWsShHvVR", e))
                    kind = A_OTHER;
                else if (e == 'b' || e == 'B')
                    kind = A_ASSERT;
                else {
                    x->bad = 1;
                    break;
                }
                x->i += 2;
            } else {
                x->i++;
                cp = mod_utf8_next(x->p, x->n, &x->i);
                kind = A_LIT;
            }
        } else if (c == '.') {
            x->i++;
        } else if (c == '^' || c == '$') {
            x->i++;
            kind = A_ASSERT;
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            x->bad = 1;
            break;
        } else {
            cp = mod_utf8_next(x->p, x->n, &x->i);
            kind = A_LIT;
        }
        if (kind == A_LIT && cp < 0) {
            x->bad = 1;
            break;
        }
        unsigned min = 1;
        int q = lp_quant(x, &min);
        if (x->bad)
            break;
        if (kind == A_LIT && min > 0 && mod_fold_trusted((uint32_t)cp)) {
            char u[4];
            size_t ul = mod_utf8_put(u, mod_fold((uint32_t)cp));
            if (rl + ul > MOD_LIT_LEN - 1)
                FLUSH();
            memcpy(run + rl, u, ul);
            rl += ul;
            if (q)
                FLUSH();
        } else {
            FLUSH();
            if (kind == A_GROUP && min > 0)
                lit_consider(best, &g);
        }
    }
    FLUSH();
#undef FLUSH
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
