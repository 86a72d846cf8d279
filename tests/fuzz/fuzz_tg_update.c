/* tests/fuzz/fuzz_tg_update.c - libFuzzer harness for tg_update_parse (outside bytes
 * from Telegram) and tg_update_chat_key on whatever parses. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/tg.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tg_update u;
    int rc = tg_update_parse((const char *)data, size, &u);
    tg_update_release(&u);
    if (rc == TL_OK && size < 65536) {
        json_tokener *tok = json_tokener_new_ex(32);
        struct json_object *o =
            tok ? json_tokener_parse_ex(tok, (const char *)data, (int)size) : NULL;
        (void)tg_update_chat_key(o);
        /* the object path must agree with the bytes path */
        if (o && tg_update_from_json(o, &u) != TL_OK)
            __builtin_trap();
        tg_update_release(&u);
        json_object_put(o);
        json_tokener_free(tok);
    }
    return 0;
}
