/* handlers/i18n.c - message catalogs: parsed once from the embedded
 * handlers/i18n/<lang>.txt files into an immutable table. */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/embed.h"
#include "common/util.h"
#include "hdl.h"
#include "common/banned.h"

extern const struct tl_embedded hdl_catalog_files[];
extern const unsigned hdl_catalog_files_count;

#define MAX_KEYS 256
#define MAX_LANGS 4

struct entry {
    char *key;
    char *value;
};

struct catalog {
    char lang[8];
    struct entry e[MAX_KEYS];
    size_t n;
};

static struct catalog catalogs[MAX_LANGS];
static size_t n_catalogs;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Unescapes \n and \\ in place. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '\\' && r[1] == 'n') {
            *w++ = '\n';
            r++;
        } else if (*r == '\\' && r[1] == '\\') {
            *w++ = '\\';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\t'))
        s[--n] = 0;
    return s;
}

static void load_one(const struct tl_embedded *f)
{
    if (n_catalogs >= MAX_LANGS)
        return;
    struct catalog *c = &catalogs[n_catalogs++];
    const char *dot = strchr(f->name, '.');
    size_t ll = dot ? (size_t)(dot - f->name) : strlen(f->name);
    if (ll >= sizeof(c->lang))
        ll = sizeof(c->lang) - 1;
    memcpy(c->lang, f->name, ll);
    c->lang[ll] = 0;
    char *text = tl_strndup(f->data, f->len);
    if (!text)
        return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *l = trim(line);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq || c->n >= MAX_KEYS)
            continue;
        *eq = 0;
        char *k = trim(l), *v = trim(eq + 1);
        unescape(v);
        c->e[c->n].key = tl_strdup(k);
        c->e[c->n].value = tl_strdup(v);
        if (c->e[c->n].key && c->e[c->n].value)
            c->n++;
    }
    free(text);
}

static void load_all(void)
{
    for (unsigned i = 0; i < hdl_catalog_files_count; i++)
        load_one(&hdl_catalog_files[i]);
}

static const struct catalog *find_catalog(const char *lang)
{
    pthread_once(&once, load_all);
    for (size_t i = 0; i < n_catalogs; i++)
        if (strcmp(catalogs[i].lang, lang) == 0)
            return &catalogs[i];
    return NULL;
}

static const char *lookup(const struct catalog *c, const char *key)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0)
            return c->e[i].value;
    return NULL;
}

const char *hdl_lang_pick(const char *language_code)
{
    if (language_code && strncmp(language_code, "en", 2) == 0)
        return "en";
    return "uk";
}

char *hdl_text(const char *lang, const char *key, ...)
{
    const char *tmpl = lookup(find_catalog(lang), key);
    if (!tmpl)
        tmpl = lookup(find_catalog("en"), key);
    if (!tmpl)
        tmpl = key;
    struct tl_buf b;
    tl_buf_init(&b, 0);
    const char *p = tmpl;
    while (*p) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            if (tl_buf_append(&b, p, strlen(p)))
                goto fail;
            break;
        }
        if (tl_buf_append(&b, p, (size_t)(open - p)))
            goto fail;
        size_t nl = (size_t)(close - open - 1);
        const char *val = NULL;
        va_list ap;
        va_start(ap, key);
        for (const char *name; (name = va_arg(ap, const char *)) != NULL;) {
            const char *v = va_arg(ap, const char *);
            if (strlen(name) == nl && strncmp(name, open + 1, nl) == 0)
                val = v;
        }
        va_end(ap);
        if (val ? tl_buf_append(&b, val, strlen(val))
                : tl_buf_append(&b, open, (size_t)(close - open + 1)))
            goto fail;
        p = close + 1;
    }
    if (tl_buf_append(&b, "", 0))
        goto fail;
    return (char *)tl_buf_steal(&b, NULL);
fail:
    tl_buf_release(&b);
    return NULL;
}

/* The placeholders of s, sorted into one comparable string "{a}{b}". */
static void placeholders(const char *s, char *out, size_t outsz)
{
    char names[16][32];
    size_t n = 0;
    for (const char *p = s; (p = strchr(p, '{')) != NULL && n < 16; p++) {
        const char *c = strchr(p, '}');
        if (!c)
            break;
        size_t l = (size_t)(c - p + 1);
        if (l < sizeof(names[0])) {
            memcpy(names[n], p, l);
            names[n++][l] = 0;
        }
    }
    qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
    out[0] = 0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += tl_strlcpy(out + (used < outsz ? used : outsz - 1), names[i],
                           used < outsz ? outsz - used : 1);
}

int hdl_i18n_check(struct tl_errinfo *ei)
{
    const struct catalog *en = find_catalog("en");
    if (!en || en->n == 0)
        return tl_errf(ei, TL_EINVAL, "no English catalog");
    for (size_t c = 0; c < n_catalogs; c++) {
        const struct catalog *cat = &catalogs[c];
        if (cat == en)
            continue;
        for (size_t i = 0; i < en->n; i++) {
            const char *v = lookup(cat, en->e[i].key);
            if (!v)
                return tl_errf(ei, TL_EINVAL, "catalog %s lacks key %s", cat->lang, en->e[i].key);
            char a[256], b[256];
            placeholders(en->e[i].value, a, sizeof(a));
            placeholders(v, b, sizeof(b));
            if (strcmp(a, b) != 0)
                return tl_errf(ei, TL_EINVAL, "catalog %s key %s: placeholders %s, en has %s",
                               cat->lang, en->e[i].key, b, a);
        }
        for (size_t i = 0; i < cat->n; i++)
            if (!lookup(en, cat->e[i].key))
                return tl_errf(ei, TL_EINVAL, "catalog %s has key %s that en lacks", cat->lang,
                               cat->e[i].key);
    }
    return TL_OK;
}
