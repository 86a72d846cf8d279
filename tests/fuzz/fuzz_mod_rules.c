/* tests/fuzz/fuzz_mod_rules.c - libFuzzer harness for the rules-file parser (and the
 * literal reader behind the prefilter): whatever parses is matched against the input
 * itself and a few texts, and must agree with itself and count hits within bounds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
    struct mod_hit h[4];
    for (size_t i = 0; i < sizeof(texts) / sizeof(*texts) + 1; i++) {
        const char *t = i < sizeof(texts) / sizeof(*texts) ? texts[i] : (const char *)data;
        size_t n = i < sizeof(texts) / sizeof(*texts) ? strlen(t) : size;
        size_t got = mod_rules_match(r, s, t, n, h, 4);
        if (got > mod_rules_count(r))
            __builtin_trap();
        for (size_t k = 0; k < got && k < 4; k++)
            if (h[k].rule >= mod_rules_count(r) || !h[k].reason[0])
                __builtin_trap();
    }
    mod_scratch_free(s);
    mod_rules_free(r);
    return 0;
}
