/* cli/cmd_triage.c - tipline triage list | next | show | decide: the analysts' queue
 * from a shell. The analyst's name comes from --as NAME, else $TIPLINE_ANALYST, else
 * $USER; it is an account's name (whose queues it may see), or any other name (the
 * queues every account sees). Every claim, view and decision is written to the audit
 * log by storage, as the API's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "common/util.h"
#include "common/banned.h"

static const char triage_usage[] =
    "usage: tipline triage list [--status S] [--category C] [--limit N]\n"
    "       tipline triage next [--as NAME]\n"
    "       tipline triage show ID|REF [--as NAME]\n"
    "       tipline triage decide ID|REF confirmed|rejected|duplicate|needs_info|escalated\n"
    "                             [--note TEXT] [--as NAME] [--next]\n";

static const char triage_doc[] =
    "'next' claims the highest-priority unclaimed report of the queues NAME may\n"
    "see with a lease (lease_seconds, default 900); two analysts never get the same\n"
    "report, and an expired lease returns the report to the queue. Deciding needs\n"
    "NAME's live lease; --next also claims the next report in the same call.\n"
    "Claims, views and decisions are audited.\n";

static void fmt_time(double t, char *out, size_t n)
{
    if (t <= 0) {
        tl_strlcpy(out, "-", n);
        return;
    }
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static void print_row(const struct store_report *r)
{
    char when[32], point[64] = "-";
    fmt_time(r->received_at, when, sizeof(when));
    if (r->has_point)
        snprintf(point, sizeof(point), "%.5f,%.5f", r->lat, r->lon);
    char text[121];
    const char *src = r->text ? r->text : "";
    tl_strlcpy(text, src, tl_utf8_prefix(src, 120) + 1);
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    printf("%-6lld %-10s %-10s %4d %-20s %-22s %-6s %s\n", r->id, r->public_ref, r->status,
           r->priority, when, point, r->n_media ? "photo" : "-", text);
}

static void print_report(const struct store_report *r)
{
    char recv[32], obs[32];
    fmt_time(r->received_at, recv, sizeof(recv));
    fmt_time(r->observed_at, obs, sizeof(obs));
    printf("report     %lld\nref        %s\nstatus     %s\npriority   %d\n", r->id, r->public_ref,
           r->status, r->priority);
    printf("category   %s\nreceived   %s\nobserved   %s\n", r->category ? r->category : "-", recv,
           obs);
    if (r->has_point)
        printf("point      %.6f, %.6f (source %s, accuracy %.0f m)\n", r->lat, r->lon,
               r->point_source ? r->point_source : "-", r->accuracy_m);
    else
        printf("point      -\n");
    if (r->has_photo_point)
        printf("photo gps  %.6f, %.6f (from the photo, before it was cleaned)\n", r->photo_lat,
               r->photo_lon);
    printf("media      %d\nforwarded  %s\nflags      %s\nreporter   %.12s (pseudonym)\n",
           r->n_media, r->forwarded ? "yes" : "no", r->flags ? r->flags : "-",
           r->reporter ? r->reporter : "-");
    if (r->claimed_by) {
        char lease[32];
        fmt_time(r->lease_until, lease, sizeof(lease));
        printf("claimed    by %s until %s\n", r->claimed_by, lease);
    }
    printf("text       %s\n", r->text ? r->text : "-");
}

/* A report just claimed, or the word that there was none. */
static void print_claimed(struct store_report *r)
{
    if (!r) {
        printf("the queue is empty\n");
        return;
    }
    print_report(r);
    store_report_free(r);
}

static const char *analyst_name(const char *opt)
{
    if (opt)
        return opt;
    const char *e = getenv("TIPLINE_ANALYST");
    if (e && *e)
        return e;
    e = getenv("USER");
    return e && *e ? e : "cli";
}

int cmd_triage(int argc, char **argv, struct cli_ctx *ctx)
{
    const char *as = NULL, *note = NULL, *status = NULL, *category = NULL;
    long long limit = 50;
    int next = 0;
    const struct cli_opt opts[] = {
        CLI_STRING("status", "S", &status, "list: only reports in this status"),
        CLI_STRING("category", "C", &category, "list: only reports of this category"),
        CLI_INT("limit", "N", &limit, 1, 10000, "list: at most N reports (default 50)"),
        CLI_STRING("as", "NAME", &as,
                   "next, show, decide: the analyst; default $TIPLINE_ANALYST, $USER"),
        CLI_STRING("note", "TEXT", &note, "decide: a note kept with the decision"),
        CLI_FLAG("next", &next, 1, "decide: also claim the next report, in the same call"),
        CLI_END,
    };
    const struct cli_spec spec = {.cmd = "triage",
                                  .usage = triage_usage,
                                  .doc = triage_doc,
                                  .opts = opts,
                                  .min_args = 1,
                                  .max_args = 3};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    const char *sub = argv[1];
    const char *pos[2] = {argc > 2 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL};
    size_t npos = (size_t)argc - 2;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    struct store *s = ctx->store;
    if (strcmp(sub, "list") == 0 && npos == 0) {
        struct store_triage_filter f = {status, category, (size_t)limit};
        struct store_report *rs = NULL;
        size_t n = 0;
        if ((rc = store_triage_list(s, &f, &rs, &n, &ei)) != TL_OK)
            return cli_fail("triage", "list", rc, &ei);
        printf("%-6s %-10s %-10s %4s %-20s %-22s %-6s %s\n", "ID", "REF", "STATUS", "PRIO",
               "RECEIVED", "POINT", "MEDIA", "TEXT");
        for (size_t i = 0; i < n; i++)
            print_row(&rs[i]);
        printf("(%zu report%s)\n", n, n == 1 ? "" : "s");
        store_reports_free(rs, n);
        return 0;
    }
    if (strcmp(sub, "next") == 0 && npos == 0) {
        struct store_report *r = NULL;
        if ((rc = store_triage_next(s, analyst_name(as), ctx->cfg.lease_seconds, &r, &ei)) != TL_OK)
            return cli_fail("triage", "next", rc, &ei);
        print_claimed(r);
        return 0;
    }
    if (strcmp(sub, "show") == 0 && npos == 1) {
        struct store_report *r = NULL;
        if ((rc = store_triage_show(s, pos[0], analyst_name(as), &r, &ei)) != TL_OK)
            return cli_fail("triage", "show", rc, &ei);
        print_report(r);
        store_report_free(r);
        return 0;
    }
    if (strcmp(sub, "decide") == 0 && npos == 2 && next) {
        struct store_report *r = NULL;
        if ((rc = store_triage_decide_next(s, pos[0], analyst_name(as), pos[1], note,
                                           ctx->cfg.lease_seconds, &r, &ei)) != TL_OK)
            return cli_fail("triage", "decide", rc, &ei);
        printf("%s: %s\n", pos[0], pos[1]);
        print_claimed(r);
        return 0;
    }
    if (strcmp(sub, "decide") == 0 && npos == 2) {
        if ((rc = store_triage_decide(s, pos[0], analyst_name(as), pos[1], note, &ei)) != TL_OK)
            return cli_fail("triage", "decide", rc, &ei);
        printf("%s: %s\n", pos[0], pos[1]);
        return 0;
    }
    return cli_usage_error(&spec, "'%s' with %zu argument%s is not a subcommand", sub, npos,
                           npos == 1 ? "" : "s");
}
