/* tests/fuzz/fuzz_mod_rules.c - libFuzzer harness for the rules-file parser and the
 * literal reader behind the prefilter: whatever parses is matched against a few texts
 * and the input itself, and every rule's result must equal plain pcre2's on the same
 * pattern (the prefilter may skip work, never change an answer). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "moderation/mod.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const texts[] = {"", "Подвоїмо ваш біткоїн", "double your BTC", "тест 123",
                                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"};
    struct mod_rules *r = NULL;
    struct mod_rules_error err;
    struct mod_limits lim = {.match_limit = 10000, .depth_limit = 200};
    if (mod_rules_parse((const char *)data, size, "fuzz", &lim, &r, &err, NULL) != TL_OK) {
        if (r || (err.line == 0 && size > 0 && size <= MOD_FILE_MAX && err.column != 0))
            __builtin_trap();
        return 0;
    }
    struct mod_scratch *s = mod_scratch_new();
    size_t nr = mod_rules_count(r);
    struct mod_hit *h = calloc(nr, sizeof(*h));
    pcre2_code **plain = calloc(nr, sizeof(*plain));
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(mc, 10000);
    pcre2_set_depth_limit(mc, 200);
    for (size_t k = 0; k < nr; k++) {
        struct mod_rule_info ri;
        int ec;
        PCRE2_SIZE eo;
        mod_rule_info(r, k, &ri);
        plain[k] = pcre2_compile((PCRE2_SPTR)ri.pattern, PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &ec, &eo, NULL);
        if (!plain[k])
            __builtin_trap(); /* it compiled at load */
    }
    for (size_t i = 0; i < sizeof(texts) / sizeof(*texts) + 1; i++) {
        const char *t = i < sizeof(texts) / sizeof(*texts) ? texts[i] : (const char *)data;
        size_t n = i < sizeof(texts) / sizeof(*texts) ? strlen(t) : size;
        size_t got = mod_rules_match(r, s, t, n, h, nr);
        if (got > nr)
            __builtin_trap();
        size_t j = 0;
        for (size_t k = 0; k < nr; k++) {
            struct mod_rule_info ri;
            mod_rule_info(r, k, &ri);
            int want = pcre2_match(plain[k], (PCRE2_SPTR)t, n, 0, 0, md, mc);
            int hit = j < got && h[j].rule == k;
            j += hit;
            if (hit && !h[j - 1].reason[0])
                __builtin_trap();
            /* over the limits or invalid UTF-8: no hit whatever pcre2 said */
            if (want < -1 || ri.disabled)
                continue;
            if ((want >= 0) != hit)
                __builtin_trap();
        }
    }
    for (size_t k = 0; k < nr; k++)
        pcre2_code_free(plain[k]);
    free(plain);
    free(h);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    mod_scratch_free(s);
    mod_rules_free(r);
    return 0;
}
