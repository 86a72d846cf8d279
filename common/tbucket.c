/* common/tbucket.c - the token bucket (see tbucket.h). */
#include "tbucket.h"

#include <time.h>

#include "banned.h"

int64_t tl_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void tl_tbucket_init(struct tl_tbucket *b, double rate, double burst, int64_t now_us)
{
    b->rate = rate > 0 ? rate : 1;
    b->burst = burst >= 1 ? burst : 1;
    b->tokens = b->burst;
    b->last_us = now_us;
}

int64_t tl_tbucket_take(struct tl_tbucket *b, int64_t now_us)
{
    if (now_us > b->last_us) {
        b->tokens += (double)(now_us - b->last_us) * b->rate / 1e6;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last_us = now_us;
    }
    if (b->tokens >= 1.0 && now_us >= b->last_us) {
        b->tokens -= 1.0;
        return 0;
    }
    int64_t wait = (int64_t)((1.0 - b->tokens) * 1e6 / b->rate) + 1;
    return wait + (b->last_us > now_us ? b->last_us - now_us : 0);
}

void tl_tbucket_pause(struct tl_tbucket *b, int64_t until_us)
{
    b->tokens = 0;
    if (until_us > b->last_us)
        b->last_us = until_us;
}
