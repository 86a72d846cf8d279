/* handlers/identity.c - the reporter's keyed identity and a report's public
 * reference: the pseudonym is the HMAC-SHA256 of the decimal Telegram user id under
 * the server's secret; the reference is "TL-" and six random Crockford base32
 * characters. */
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "common/util.h"
#include "hdl.h"
#include "common/banned.h"

int hdl_pseudonym(const unsigned char *secret, size_t secret_len, long long user_id, char out[65])
{
    char id[32];
    unsigned char mac[32];
    int n = snprintf(id, sizeof(id), "%lld", user_id);
    if (!secret || secret_len < 16)
        return TL_EINVAL;
    if (tl_hmac_sha256(secret, secret_len, id, (size_t)n, mac) != TL_OK)
        return TL_EIO;
    tl_hex(mac, 32, out);
    return TL_OK;
}

int hdl_new_ref(char out[16])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */
    unsigned char r[6];
    int rc = tl_random(r, sizeof(r));
    if (rc)
        return rc;
    memcpy(out, "TL-", 3);
    for (int i = 0; i < 6; i++)
        out[3 + i] = alphabet[r[i] & 31];
    out[9] = 0;
    return TL_OK;
}
