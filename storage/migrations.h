/* storage/migrations.h - internal to storage/: the migrations embedded at build time
 * (see embed_migrations.cmake), in ascending version order. */
#ifndef TL_STORE_MIGRATIONS_H
#define TL_STORE_MIGRATIONS_H

#include <stddef.h>

struct store_migration {
    int version;
    const char *name; /* from the file name NNNN_name.sql */
    const char *sql;  /* the whole file, NUL-terminated */
};

extern const struct store_migration store_migrations[];
extern const size_t store_n_migrations;

#endif
