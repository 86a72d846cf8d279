/* cli/cmd_export.c - tipline export: the decided reports to a file (GeoJSON, CSV,
 * KML or GeoJSONSeq) for dashboards and GIS tools, through a server-side cursor so
 * that memory stays flat however many there are; the file appears whole (written
 * aside, then renamed) for a scheduled export's readers. Audited. Read from the read
 * replica (database_replica_url) when it has caught up with the primary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common/log.h"
#include "common/util.h"
#include "web/web.h"
#include "storage/store_export.h"
#include "common/banned.h"

static const char export_usage[] =
    "usage: tipline export [--format geojson|csv|kml|geojsonseq] [-o FILE]\n"
    "                      [--status S] [--category C] [--since T] [--until T]\n"
    "                      [--bbox W,S,E,N] [--after CURSOR] [--as ACCOUNT]\n"
    "                      [--precision DIGITS] [--hxl] [--text]\n";

static const char export_doc[] =
    "Writes the decided reports with a point (confirmed unless --status says otherwise),\n"
    "in decision order, to FILE or stdout: GeoJSON (RFC 7946, longitude first), CSV\n"
    "(RFC 4180 with lon, lat and WKT columns; --hxl adds an HXL hashtag row), KML 2.2\n"
    "or GeoJSONSeq (RFC 8142). Each row carries its cursor: --after CURSOR writes only\n"
    "what was decided since. No export holds who reported; --text (the reports' own\n"
    "words) only where the configuration says export_text = 1. Every export is audited.\n"
    "With database_replica_url, the rows are read from the replica once it has replayed\n"
    "what the primary held when the export began (waiting replica_max_lag_seconds at\n"
    "most, else the primary); the audit row goes to the primary.\n";

/* Where the rows are read: the replica's connection (*rs, the caller frees it) when one
 * is configured and it has replayed everything the primary had written when this export
 * began, waiting replica_max_lag_seconds at most: so a scheduled export never misses a
 * decision made before it started. Else the primary's (*rs NULL). */
static struct store *rows_from(struct cli_ctx *ctx, struct store **rs)
{
    struct tl_errinfo ei;
    long long want = 0, have = -1;
    *rs = NULL;
    if (!*ctx->cfg.database_replica_url)
        return ctx->store;
    tl_errinfo_clear(&ei);
    if (store_wal_position(ctx->store, &want, &ei) == TL_OK &&
        store_open(ctx->cfg.database_replica_url, rs, &ei) == TL_OK) {
        int64_t end = tl_now_ms() + ctx->cfg.replica_max_lag_seconds * 1000;
        while (store_replica_replayed(*rs, &have, NULL, &ei) == TL_OK && have < want &&
               tl_now_ms() < end && !cli_stop)
            tl_sleep_ms(100, &cli_stop);
    }
    if (*rs && have >= want) {
        log_info("export: reading the replica");
        return *rs;
    }
    log_warn("export: the replica is unreachable or behind, reading the primary "
             "behind_bytes=%lld detail=\"%s\"",
             have >= 0 ? want - have : -1, ei.msg);
    store_free(*rs);
    *rs = NULL;
    return ctx->store;
}

static int parse_bbox(const char *s, double out[4])
{
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        char *end = NULL;
        errno = 0;
        out[i] = strtod(p, &end);
        if (end == p || errno || *end != (i < 3 ? ',' : 0))
            return -1;
        p = end + 1;
    }
    return out[0] >= -180 && out[2] <= 180 && out[1] >= -90 && out[3] <= 90 && out[0] < out[2] &&
                   out[1] < out[3]
               ? 0
               : -1;
}

static int parse_cursor(const char *s, long long *us, long long *id)
{
    const char *u = strchr(s, '_');
    char head[32];
    if (!u || (size_t)(u - s) >= sizeof(head))
        return -1;
    memcpy(head, s, (size_t)(u - s));
    head[u - s] = 0;
    return tl_parse_ll(head, us) || tl_parse_ll(u + 1, id) || *us < 0 || *id < 0 ? -1 : 0;
}

static int drain(struct tl_buf *b, FILE *f)
{
    if (b->len && fwrite(b->data, 1, b->len, f) != b->len)
        return -1;
    tl_buf_clear(b);
    return 0;
}

static void progress(long long n, int64_t t0, int done)
{
    double s = (double)(tl_now_ms() - t0) / 1000.0;
    fprintf(stderr, "\rexport: %lld rows, %.0f rows/s%s", n, s > 0 ? (double)n / s : 0.0,
            done ? "\n" : "");
}

/* What an export is to do: its options, parsed. */
struct export_job {
    const char *format; /* as given, for the audit */
    const char *out;    /* the file, or NULL: stdout */
    struct store_export_filter f;
    struct web_export_fmt fmt;
};

/* Parses export's options into job. -1 when the export is to run, else the exit code
 * (--help, or a usage error). */
static int export_options(int argc, char **argv, struct cli_ctx *ctx, struct export_job *job)
{
    const char *format = "geojson", *out = NULL, *bbox = NULL, *after = NULL, *as = NULL;
    long long precision = -1;
    int hxl = 0, text = 0;
    struct store_export_filter f = {.decimals = -1};
    const struct cli_opt opts[] = {
        CLI_STRING("format", "F", &format, "geojson (default), csv, kml or geojsonseq"),
        CLI_STRING("output", "FILE", &out, "write to FILE (also -o FILE); default stdout"),
        CLI_STRING("status", "S", &f.status,
                   "confirmed (default), rejected, duplicate, needs_info, escalated"),
        CLI_STRING("category", "C", &f.category, "only reports of this category"),
        CLI_STRING("since", "T", &f.since, "received at or after T (ISO 8601)"),
        CLI_STRING("until", "T", &f.until, "received before T (ISO 8601)"),
        CLI_STRING("bbox", "W,S,E,N", &bbox, "only points inside, in degrees"),
        CLI_STRING("after", "CURSOR", &after, "only reports decided after a row's cursor"),
        CLI_STRING("as", "ACCOUNT", &as, "only the queues ACCOUNT may see; default all"),
        CLI_INT("precision", "DIGITS", &precision, 0, 9,
                "round coordinates to DIGITS decimals (2: about 1 km), for publication"),
        CLI_FLAG("hxl", &hxl, 1, "csv: an HXL hashtag row under the header"),
        CLI_FLAG("text", &text, 1, "the reports' text too (needs export_text = 1)"),
        CLI_END,
    };
    const struct cli_spec spec = {
        .cmd = "export", .usage = export_usage, .doc = export_doc, .opts = opts, .max_args = 0};
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-o") == 0)
            argv[i] = "--output"; /* the one short option, as every exporter spells it */
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    struct web_export_fmt fmt = {.hxl = hxl, .with_text = text};
    if (web_export_format_parse(format, &fmt.format))
        return cli_usage_error(&spec, "--format is geojson, csv, kml or geojsonseq");
    if (bbox && parse_bbox(bbox, f.bbox))
        return cli_usage_error(&spec, "--bbox is W,S,E,N in degrees, W < E and S < N");
    if (after && parse_cursor(after, &f.after_us, &f.after_id))
        return cli_usage_error(&spec, "--after is a row's cursor: <microseconds>_<id>");
    if (text && !ctx->cfg.export_text)
        return cli_usage_error(&spec, "--text needs export_text = 1 in the configuration");
    f.has_bbox = bbox != NULL;
    f.has_after = after != NULL;
    f.decimals = (int)precision;
    f.with_text = text;
    f.account = as;
    *job = (struct export_job){.format = format, .out = out, .f = f, .fmt = fmt};
    return -1;
}

/* Where the export is written: stdout; a device or a pipe named by *out, written as it is
 * (*out becomes NULL: nothing to rename); else *out's ".part" file (*tmp, the caller
 * frees it), renamed over *out once whole. NULL when it cannot be opened (said on
 * stderr). */
static FILE *export_open_out(const char **out, char **tmp)
{
    FILE *fp = stdout;
    struct stat sb;
    if (*out && stat(*out, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* a device or a pipe (-o /dev/stdout): written as it is, never renamed over */
        if (!(fp = fopen(*out, "w"))) {
            fprintf(stderr, "tipline export: cannot write %s: %s\n", *out, strerror(errno));
            return NULL;
        }
        *out = NULL;
    } else if (*out) {
        if (!(*tmp = tl_asprintf("%s.part", *out)) || !(fp = fopen(*tmp, "w"))) {
            fprintf(stderr, "tipline export: cannot write %s: %s\n", *tmp ? *tmp : *out,
                    strerror(errno));
            return NULL;
        }
    }
    return fp;
}

/* Writes the rows of x to fp in fmt (head, rows, tail) through b, with a progress bar
 * when bar (t0: when the export began). TL_OK; the rows' error; or, when fp refused a
 * write, TL_EIO with *werr set (errno says why). */
static int export_write(struct store_export *x, struct web_export_fmt *fmt, struct tl_buf *b,
                        FILE *fp, int bar, int64_t t0, int *werr, struct tl_errinfo *ei)
{
    int64_t shown = t0;
    int rc;
    *werr = 0;
    if ((rc = web_export_head(fmt, b)) != TL_OK)
        return rc;
    for (;;) {
        struct store_export_row row;
        int have = 0;
        if ((rc = store_export_next(x, &row, &have, ei)) != TL_OK)
            return rc;
        if (!have)
            break;
        if ((rc = web_export_row(fmt, &row, b)) != TL_OK)
            return rc;
        if (b->len >= 64 * 1024 && drain(b, fp))
            goto write_fail;
        if (bar && (fmt->n & 1023) == 0 && tl_now_ms() - shown >= 200) {
            shown = tl_now_ms();
            progress(fmt->n, t0, 0);
        }
    }
    if ((rc = web_export_tail(fmt, b)) != TL_OK)
        return rc;
    if (drain(b, fp) || fflush(fp))
        goto write_fail;
    return TL_OK;
write_fail:
    *werr = 1;
    return TL_EIO;
}

/* Runs the export job: the rows read (from the replica when it has caught up), written,
 * audited, and the file renamed into place. The exit code. */
static int export_run(struct cli_ctx *ctx, struct export_job *job)
{
    struct tl_errinfo ei;
    struct store_export *x = NULL;
    struct store *rs = NULL; /* the replica's connection, when the rows come from it */
    struct tl_buf b;
    char *tmp = NULL, *actor = cli_actor();
    const char *out = job->out;
    FILE *fp = NULL;
    int code = 1, rc, werr = 0;
    tl_errinfo_clear(&ei);
    tl_buf_init(&b, 0);
    if (!actor || !(fp = export_open_out(&out, &tmp)))
        goto out;
    int bar = isatty(STDERR_FILENO) && !isatty(fileno(fp));
    int64_t t0 = tl_now_ms();
    if ((rc = store_export_open(rows_from(ctx, &rs), &job->f, &x, &ei)) != TL_OK) {
        code = cli_fail("export", "open", rc, &ei);
        goto out;
    }
    if (rs) /* a replica takes no writes */
        store_export_audit_to(x, ctx->store);
    rc = export_write(x, &job->fmt, &b, fp, bar, t0, &werr, &ei);
    if (werr) {
        fprintf(stderr, "tipline export: write failed: %s\n", strerror(errno));
        goto out;
    }
    if (rc == TL_OK)
        rc = store_export_finish(x, actor, "tipline export", job->format, &ei);
    if (rc != TL_OK) {
        code = cli_fail("export", "rows", rc, &ei);
        goto out;
    }
    if (out) {
        int cerr = fclose(fp);
        fp = NULL;
        if (cerr || rename(tmp, out)) {
            fprintf(stderr, "tipline export: cannot write %s: %s\n", out, strerror(errno));
            goto out;
        }
    }
    if (bar)
        progress(job->fmt.n, t0, 1);
    code = 0;
out:
    store_export_free(x);
    store_free(rs);
    if (fp && fp != stdout)
        fclose(fp);
    if (code && tmp)
        unlink(tmp);
    tl_buf_release(&b);
    free(tmp);
    free(actor);
    return code;
}

int cmd_export(int argc, char **argv, struct cli_ctx *ctx)
{
    struct export_job job;
    int rc = export_options(argc, argv, ctx, &job);
    return rc >= 0 ? rc : export_run(ctx, &job);
}
