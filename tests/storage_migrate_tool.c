/* tests/storage_migrate_tool.c - a stand-in for `tipline migrate` (store_open +
 * store_migrate on $TIPLINE_DATABASE_URL) so tests/pgtmp.sh can build its template
 * database before the tipline binary exists in this branch. */
#include <stdio.h>
#include <stdlib.h>

#include "storage/store.h"
#include "common/banned.h"

int main(int argc, char **argv)
{
    const char *url = getenv("TIPLINE_DATABASE_URL");
    struct tl_errinfo ei = {0};
    struct store *s = NULL;
    int applied = 0;
    if (argc != 2 || !url) {
        fprintf(stderr, "usage: TIPLINE_DATABASE_URL=... %s migrate\n", argv[0]);
        return 2;
    }
    int rc = store_open(url, &s, &ei);
    if (!rc)
        rc = store_migrate(s, &applied, &ei);
    store_free(s);
    if (rc) {
        fprintf(stderr, "migrate: %s: %s\n", tl_strerror(rc), ei.msg);
        return 1;
    }
    printf("migrate: %d applied\n", applied);
    return 0;
}
