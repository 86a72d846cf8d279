/* storage/migrations.h - internal to storage/: the SQL embedded at build time by
 * embed_sql.cmake. Numbered migrations (tables, indexes, data) in ascending version
 * order; schema files (functions, triggers, views) in the order schema/order.txt gives. */
#ifndef TL_STORE_MIGRATIONS_H
#define TL_STORE_MIGRATIONS_H

#include <stddef.h>

struct store_migration {
    int version;
    const char *name;   /* from the file name NNNN_name.sql */
    const char *sha256; /* of the file's bytes, lower-case hex */
    const char *sql;    /* the whole file, NUL-terminated */
};

struct store_schema_file {
    const char *name;   /* the file name, e.g. "web_claim.sql" */
    const char *sha256; /* of the file's bytes, lower-case hex */
    const char *sql;
};

extern const struct store_migration store_migrations[];
extern const size_t store_n_migrations;
extern const struct store_schema_file store_schema[];
extern const size_t store_n_schema;

/* The baseline: the version whose file stands for every migration up to it. A database
 * an earlier tipline migrated through all of 1..STORE_BASELINE_VERSION adopts it. */
#define STORE_BASELINE_VERSION 17

#endif
