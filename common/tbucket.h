/* common/tbucket.h - a token bucket: rate tokens a second, at most burst held. The
 * sender paces Bot API calls with one (burst 1: no second holds more than rate sends);
 * the web limits each credential with one per slot. Not locked: the owner serialises. */
#ifndef TL_TBUCKET_H
#define TL_TBUCKET_H

#include <stdint.h>

struct tl_tbucket {
    double rate;     /* tokens per second, > 0 */
    double burst;    /* most tokens held, >= 1 */
    double tokens;   /* held at last_us */
    int64_t last_us; /* when tokens was last brought up to date; may lie ahead (a pause) */
};

/* Monotonic microseconds: the clock the buckets run on. */
int64_t tl_now_us(void);

/* A full bucket at now_us. rate <= 0 is taken as 1 a second, burst < 1 as 1. */
void tl_tbucket_init(struct tl_tbucket *b, double rate, double burst, int64_t now_us);

/* Takes one token at now_us: 0 when taken, else the microseconds until one will be
 * there (nothing is taken then). */
int64_t tl_tbucket_take(struct tl_tbucket *b, int64_t now_us);

/* Empties the bucket and holds it empty until until_us (refilling from then on):
 * everyone waits out a flood limit. */
void tl_tbucket_pause(struct tl_tbucket *b, int64_t until_us);

#endif
