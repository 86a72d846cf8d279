/* geo/words.c - the parser's word lists (the cues before a place name, the weak cues,
 * the words that are no place) and the hash set a context keeps of them, so that
 * each word of a text is classed in one probe. */
#include <stdint.h>
#include <string.h>

#include "common/hash.h"
#include "geo/geo_int.h"
#include "common/banned.h"

/* Words after which a place name is expected. A lower-case word is looked up only
 * after one of these; a capitalised one after these or the weak ones below. */
static const struct lit place_cues[] = {
    L("біля"),   L("поблизу"), L("під"),     L("в"),        L("у"),       L("во"),
    L("районі"), L("район"),   L("околиці"), L("околицях"), L("поруч"),   L("неподалік"),
    L("с"),      L("смт"),     L("м"),       L("село"),     L("селі"),    L("селища"),
    L("селище"), L("місто"),   L("місті"),   L("міста"),    L("near"),    L("in"),
    L("at"),     L("around"),  L("outside"), L("над"),      L("возле"),   L("около"),
    L("под"),    L("рядом"),   L("город"),   L("городе"),   L("поселок"), L("посёлке"),
    L("селе"),   L("деревне"), L("городом"), L("містом"),   L("over"),    L("near"),
};

static const struct lit weak_cues[] = {
    L("на"),  L("від"), L("до"),      L("через"), L("towards"), L("toward"), L("into"),
    L("по"),  L("of"),  L("between"), L("with"),  L("і"),       L("и"),      L("та"),
    L("and"), L("з"),   L("із"),      L("со"),    L("из"),      L("from"),   L("to"),
};

/* Words that follow a place cue but are no place. */
static const struct lit not_places[] = {
    L("районі"),   L("напрямку"),  L("бік"),    L("сторону"),    L("місті"),     L("селі"),
    L("небі"),     L("повітрі"),   L("центрі"), L("околиці"),    L("місці"),     L("тому"),
    L("цьому"),    L("нас"),       L("нашому"), L("мене"),       L("нашого"),    L("мого"),
    L("the"),      L("area"),      L("city"),   L("town"),       L("village"),   L("direction"),
    L("center"),   L("north"),     L("south"),  L("east"),       L("west"),      L("північ"),
    L("південь"),  L("схід"),      L("захід"),  L("городе"),     L("районе"),    L("сторону"),
    L("місто"),    L("село"),      L("selo"),   L("river"),      L("road"),      L("трасі"),
    L("дорозі"),   L("небо"),      L("морі"),   L("north-east"), L("північний"), L("північно"),
    L("південно"), L("південний"), L("полі"),   L("лісі"),       L("лісу"),
};

static const struct lit *wordset_entry(size_t k)
{
    if (k < NLITS(place_cues))
        return &place_cues[k];
    k -= NLITS(place_cues);
    if (k < NLITS(weak_cues))
        return &weak_cues[k];
    return &not_places[k - NLITS(weak_cues)];
}

void geo_wordset_build(struct geo_wordset *ws)
{
    memset(ws, 0, sizeof *ws);
    size_t total = NLITS(place_cues) + NLITS(weak_cues) + NLITS(not_places);
    for (size_t k = 0; k < total; k++) {
        const struct lit *l = wordset_entry(k);
        uint8_t cls = k < NLITS(place_cues)                      ? GEO_W_CUE
                      : k < NLITS(place_cues) + NLITS(weak_cues) ? GEO_W_WEAK
                                                                 : GEO_W_NOPLACE;
        size_t s = tl_fnv1a(l->s, l->n) & (GEO_WSET - 1);
        while (ws->idx[s]) {
            const struct lit *o = wordset_entry(ws->idx[s] - 1u);
            if (o->n == l->n && memcmp(o->s, l->s, l->n) == 0)
                break;
            s = (s + 1) & (GEO_WSET - 1);
        }
        if (!ws->idx[s])
            ws->idx[s] = (uint16_t)(k + 1);
        ws->cls[s] |= cls;
    }
}

/* GEO_W_* bits of a lower-case word, 0 if in no list. */
unsigned geo_word_class(const struct geo_wordset *ws, const char *w, size_t n)
{
    size_t s = tl_fnv1a(w, n) & (GEO_WSET - 1);
    while (ws->idx[s]) {
        const struct lit *o = wordset_entry(ws->idx[s] - 1u);
        if (o->n == n && memcmp(o->s, w, n) == 0)
            return ws->cls[s];
        s = (s + 1) & (GEO_WSET - 1);
    }
    return 0;
}
