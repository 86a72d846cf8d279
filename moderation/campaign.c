/* moderation/campaign.c - flood campaigns: a one-permutation minhash of the normalised
 * text's shingles, the photo's perceptual hash, and the decision whether a message
 * joins a campaign of new reporters.
 *
 * Why a minhash of 4-code-point shingles: it costs one hash per code point (one
 * permutation, densified), fits a fixed 256-byte signature the caller can keep in a
 * window or a table, compares in a few nanoseconds, and its estimate of the shingles'
 * Jaccard stays within 0.04 of the exact one on bench/moderation's corpus: flood
 * variants at 0.94-1.0, unrelated reports at most 0.11, either side of a 0.5 threshold;
 * see bench/README.md. */
#include <stdlib.h>
#include <string.h>

#include "moderation/mod.h"
#include "moderation/internal.h"
#include "common/banned.h"

#define SHINGLE 4
#define EMPTY 0xFFFFFFFFu

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int mod_phash_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}

int mod_sig_make(const char *text, size_t len, int has_photo, uint64_t phash, struct mod_sig *sig)
{
    char *norm = NULL;
    memset(sig, 0, sizeof(*sig));
    sig->has_photo = has_photo != 0;
    sig->phash = has_photo ? phash : 0;
    if (!text || len == 0)
        return TL_OK;
    int rc = mod_text_normalise(text, len, &norm);
    if (rc != TL_OK)
        return rc;
    uint32_t win[SHINGLE];
    size_t ncp = 0, nlen = strlen(norm);
    for (int k = 0; k < MOD_SIG_K; k++)
        sig->minhash[k] = EMPTY;
    for (size_t i = 0; i < nlen;) {
        int32_t c = mod_utf8_next((const unsigned char *)norm, nlen, &i);
        win[ncp % SHINGLE] = (uint32_t)c;
        ncp++;
        if (ncp < SHINGLE)
            continue;
        uint64_t h = 0x9E3779B97F4A7C15ULL;
        for (size_t k = ncp - SHINGLE; k < ncp; k++)
            h = mix64(h ^ win[k % SHINGLE]);
        uint32_t bin = (uint32_t)(h >> 58), v = (uint32_t)h;
        if (v == EMPTY)
            v--;
        if (v < sig->minhash[bin])
            sig->minhash[bin] = v;
    }
    free(norm);
    sig->text_len = (uint32_t)ncp;
    if (ncp < SHINGLE) {
        memset(sig->minhash, 0, sizeof(sig->minhash));
        return TL_OK;
    }
    /* densify: an empty bin borrows the next filled one to its right (circular),
     * mixed with the distance so borrowed values do not all agree by accident */
    uint32_t filled[MOD_SIG_K];
    memcpy(filled, sig->minhash, sizeof(filled));
    for (int k = 0; k < MOD_SIG_K; k++) {
        if (filled[k] != EMPTY)
            continue;
        for (int d = 1; d < MOD_SIG_K; d++) {
            uint32_t v = filled[(k + d) % MOD_SIG_K];
            if (v != EMPTY) {
                sig->minhash[k] = (uint32_t)mix64((uint64_t)v << 8 | (uint64_t)d);
                break;
            }
        }
    }
    return TL_OK;
}

double mod_sig_similarity(const struct mod_sig *a, const struct mod_sig *b)
{
    if (a->text_len < SHINGLE || b->text_len < SHINGLE)
        return 0;
    int same = 0;
    for (int k = 0; k < MOD_SIG_K; k++)
        same += a->minhash[k] == b->minhash[k];
    return (double)same / MOD_SIG_K;
}

static int similar(const struct mod_campaign_cfg *cfg, const struct mod_sig *a,
                   const struct mod_sig *b)
{
    if (a->has_photo && b->has_photo &&
        mod_phash_distance(a->phash, b->phash) <= cfg->max_phash_distance)
        return 1;
    return a->text_len >= cfg->min_text_len && b->text_len >= cfg->min_text_len &&
           a->text_len >= SHINGLE && b->text_len >= SHINGLE &&
           mod_sig_similarity(a, b) >= cfg->min_similarity;
}

#define REPORTERS_MAX 64

void mod_campaign_check(const struct mod_campaign_cfg *cfg, const struct mod_sig *sig,
                        int64_t reporter, int64_t now_us, const struct mod_recent *window, size_t n,
                        size_t *matched, size_t max, struct mod_campaign_result *out)
{
    int64_t seen[REPORTERS_MAX];
    uint32_t need = cfg->min_reporters < 2               ? 2
                    : cfg->min_reporters > REPORTERS_MAX ? REPORTERS_MAX
                                                         : cfg->min_reporters;
    int64_t newest_campaign_at = INT64_MIN;

    memset(out, 0, sizeof(*out));
    seen[0] = reporter;
    out->reporters = 1;
    for (size_t i = 0; i < n; i++) {
        const struct mod_recent *w = &window[i];
        if (w->at_us < now_us - cfg->window_us || !similar(cfg, sig, &w->sig))
            continue;
        if (out->nmatched < max)
            matched[out->nmatched] = i;
        out->nmatched++;
        if (w->campaign != 0 && w->at_us > newest_campaign_at) {
            out->campaign = w->campaign;
            newest_campaign_at = w->at_us;
        }
        if (out->reporters < need) {
            uint32_t k = 0;
            while (k < out->reporters && seen[k] != w->reporter)
                k++;
            if (k == out->reporters)
                seen[out->reporters++] = w->reporter;
        }
    }
    out->joins = out->campaign != 0 || out->reporters >= need;
}
