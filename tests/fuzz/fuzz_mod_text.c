/* tests/fuzz/fuzz_mod_text.c - libFuzzer harness for the text hygiene: the display form
 * is valid UTF-8 with no control or bidi character left, links lie inside the text,
 * the length bound ends on a code point, normalising and signing never overflow. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moderation/mod.h"
#include "common/utf8.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    char *d = NULL, *n = NULL;
    size_t nn = 0;
    if (mod_text_display(t, size, &d, &nn) != TL_OK)
        return 0;
    size_t dl = strlen(d);
    if (!tl_utf8_valid(d, dl) || strstr(d, "\xE2\x80\xAE") || strstr(d, "\x1b"))
        __builtin_trap();
    free(d);
    struct mod_link l[MOD_LINKS_MAX];
    size_t nl = mod_links_find(t, size, l, MOD_LINKS_MAX);
    for (size_t i = 0; i < nl && i < MOD_LINKS_MAX; i++)
        if (l[i].off + l[i].len > size || l[i].len == 0 ||
            (i && l[i].off < l[i - 1].off + l[i - 1].len))
            __builtin_trap();
    size_t b = mod_text_bound(t, size, 7);
    if (b > size || mod_text_utf16_len(t, b) > 7 ||
        (b < size && ((unsigned char)t[b] & 0xC0) == 0x80 && tl_utf8_valid(t, size)))
        __builtin_trap();
    if (mod_text_normalise(t, size, &n) != TL_OK)
        return 0;
    if (!tl_utf8_valid(n, strlen(n)) && strlen(n) > 0)
        __builtin_trap();
    free(n);
    struct mod_sig sig;
    if (mod_sig_make(t, size, size & 1, size, &sig) == TL_OK) {
        double sim = mod_sig_similarity(&sig, &sig);
        if (sig.text_len >= 4 && sim != 1.0)
            __builtin_trap();
    }
    return 0;
}
