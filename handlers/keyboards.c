/* handlers/keyboards.c - the inline keyboards the bot puts under its messages
 * (buttons whose callback data names the draft and the action) and the category
 * list they offer: the configured categories, the moving ones, their labels. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "hdl_int.h"
#include "common/banned.h"

struct json_object *hdl_kb_new(void)
{
    struct json_object *kb = json_object_new_object();
    if (kb)
        json_object_object_add(kb, "inline_keyboard", json_object_new_array());
    return kb;
}

struct json_object *hdl_kb_row(struct json_object *kb)
{
    struct json_object *rows, *row = json_object_new_array();
    if (!kb || !row || !json_object_object_get_ex(kb, "inline_keyboard", &rows)) {
        json_object_put(row);
        return NULL;
    }
    json_object_array_add(rows, row);
    return row;
}

/* A button whose callback data is "<draft>:<act>" (draft 0: act alone). */
void hdl_kb_btn(struct json_object *row, const char *label, long long draft, const char *act)
{
    if (!row || !label)
        return;
    char *data = draft ? tl_asprintf("%lld:%s", draft, act) : tl_strdup(act);
    struct json_object *b = json_object_new_object();
    if (!data || !b) {
        free(data);
        json_object_put(b);
        return;
    }
    json_object_object_add(b, "text", json_object_new_string(label));
    json_object_object_add(b, "callback_data", json_object_new_string(data));
    free(data);
    json_object_array_add(row, b);
}

/* ---- categories ---- */

#define HDL_DEFAULT_CATEGORIES                                                                     \
    "equipment,troops,aircraft,drones,shelling,suspicious,collaborators,damage,other"
#define HDL_DEFAULT_MOVING "troops,aircraft,drones"

const char *hdl_categories(const struct hdl_ctx *ctx)
{
    return ctx->categories && *ctx->categories ? ctx->categories : HDL_DEFAULT_CATEGORIES;
}

/* Is id one of the comma-separated list's items? */
int hdl_in_list(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *s = list; s && *s;) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == n && strncmp(s, id, n) == 0)
            return 1;
        s = e ? e + 1 : NULL;
    }
    return 0;
}

int hdl_is_moving(const struct hdl_ctx *ctx, const char *cat)
{
    const char *m = ctx->moving_categories && *ctx->moving_categories ? ctx->moving_categories
                                                                      : HDL_DEFAULT_MOVING;
    return cat && hdl_in_list(m, cat);
}

/* The category's label in lang: the catalog's "cat_<id>", else the id itself. */
const char *hdl_cat_label(struct hdl_plan *p, const char *lang, const char *id)
{
    char key[64];
    snprintf(key, sizeof(key), "cat_%s", id);
    char *t = hdl_text(lang, key, (char *)NULL);
    if (t && strcmp(t, key) == 0) {
        free(t);
        t = tl_strdup(id);
    }
    return hdl_keep(p, t);
}
