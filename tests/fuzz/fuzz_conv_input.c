/* tests/fuzz/fuzz_conv_input.c - libFuzzer harness for what the conversation reads from
 * outside: callback data, a typed time, a typed direction, UTF-16 measuring, the draft
 * JSON, and whole updates decided against no draft and against a draft at every step.
 * Invariants: parsed values are in range, prefixes end on code point boundaries within
 * the budget, a draft survives its JSON round trip, and every decision's replies are
 * well-formed JSON for a known method. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "bot/tg.h"
#include "handlers/hdl.h"

static const unsigned char SECRET[] = "fuzz-secret-fuzz-secret-fuzz-sec";

static void check_plan(const struct hdl_plan *p)
{
    static const char *const methods[] = {"sendMessage", "editMessageText",
                                          "editMessageReplyMarkup", "answerCallbackQuery",
                                          "deleteMessage"};
    for (size_t i = 0; i < p->n_out; i++) {
        int known = 0;
        for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
            known |= strcmp(p->out[i].method, methods[k]) == 0;
        struct json_object *o = json_tokener_parse(p->out[i].params_json), *t;
        if (!known || !o || !p->out[i].chat_id)
            abort();
        if (json_object_object_get_ex(o, "text", &t) &&
            hdl_utf16_len(json_object_get_string(t)) > HDL_TG_TEXT_MAX)
            abort();
        json_object_put(o);
    }
    if (p->fx.report && (!p->fx.report->public_ref || !p->fx.report->reporter))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;

    struct hdl_cb cb;
    if (hdl_cb_parse(s, &cb) == TL_OK &&
        (cb.act == HDL_CB_NONE || strlen(cb.arg) >= sizeof(cb.arg) ||
         (cb.act != HDL_CB_LANG && cb.act != HDL_CB_CLEAR && cb.draft_id <= 0)))
        abort();
    double now = 1.7e9, at;
    if (hdl_parse_when(s, now, NULL, &at) == TL_OK && (at > now + 300 || at < now - 8 * 86400.0))
        abort();
    double deg;
    if (hdl_parse_bearing(s, &deg) == TL_OK && (deg < 0 || deg >= 360))
        abort();
    size_t budget = size % 64;
    size_t cut = hdl_utf16_prefix(s, budget);
    if (cut > strlen(s))
        abort();
    char *pre = tl_strndup(s, cut);
    if (pre && hdl_utf16_len(pre) > budget)
        abort();
    free(pre);

    struct hdl_draft d;
    if (hdl_draft_from_json(s, &d) == TL_OK) {
        char *j = hdl_draft_to_json(&d);
        struct hdl_draft back;
        if (j && (hdl_draft_from_json(j, &back) != TL_OK || back.id != d.id ||
                  back.step != d.step || back.n_msgs != d.n_msgs))
            abort();
        if (j)
            hdl_draft_release(&back);
        free(j);
        hdl_draft_release(&d);
    }

    struct tg_update u;
    if (tg_update_parse(s, size, &u) == TL_OK) {
        struct hdl_ctx ctx = {.secret = SECRET, .secret_len = 32, .max_photo_bytes = 1 << 20};
        struct hdl_plan p;
        if (hdl_decide(&ctx, NULL, &u, NULL, &p) == TL_OK)
            check_plan(&p);
        hdl_plan_release(&p);
        /* the same update against a draft at each step */
        for (int step = HDL_STEP_QUICK; step <= HDL_STEP_EDIT; step++) {
            struct hdl_draft dd = {.id = 5,
                                   .step = (enum hdl_step)step,
                                   .guided = step > 0,
                                   .lang = "en",
                                   .n_media = step % 2};
            struct hdl_conv cv = {.draft = &dd, .prompt_msg_id = step, .now = now};
            if (hdl_decide(&ctx, &cv, &u, NULL, &p) == TL_OK)
                check_plan(&p);
            hdl_plan_release(&p);
        }
    }
    tg_update_release(&u);
    free(s);
    return 0;
}
