/* cli/cmd_purge.c - tipline purge [--dry-run]: retention on demand or from the systemd
 * timer (deploy/tipline-purge.timer): what the configuration says may go, in one
 * transaction, audited; --dry-run counts the same without changing anything. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "common/banned.h"

int cmd_purge(int argc, char **argv, struct cli_ctx *ctx)
{
    int dry = 0;
    const struct cli_opt opts[] = {
        CLI_FLAG("dry-run", &dry, 1, "count what would go; change nothing"),
        CLI_END,
    };
    const struct cli_spec spec = {
        .cmd = "purge",
        .usage = "usage: tipline purge [--dry-run]\n",
        .doc = "Deletes what the retention settings say may go: processed raw updates after\n"
               "inbox_retention_days; the chat ids of reporters not seen for\n"
               "chat_retention_days, with their drafts and finished replies; expired drafts;\n"
               "stale live events; the photos of reports rejected more than\n"
               "rejected_photo_retention_days ago (0 keeps them). One transaction; the\n"
               "audit log records who purged what. Prints one line per kind.\n",
        .opts = opts};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    struct store_retention r = {.chat_days = ctx->cfg.chat_retention_days,
                                .inbox_days = ctx->cfg.inbox_retention_days,
                                .photo_days = ctx->cfg.rejected_photo_retention_days};
    struct tl_errinfo ei;
    char *actor = cli_actor();
    rc = store_retention_run(ctx->store, &r, dry, actor, &ei);
    free(actor);
    if (rc)
        return cli_fail("purge", dry ? "--dry-run" : "", rc, &ei);
    const char *verb = dry ? "would delete" : "deleted";
    printf("%s inbox %lld (processed updates older than %ld days)\n", verb, r.inbox, r.inbox_days);
    printf("%s chats %lld (not seen for %ld days)\n", verb, r.chats, r.chat_days);
    printf("%s outbox %lld\n", verb, r.outbox);
    printf("%s drafts %lld\n", verb, r.drafts);
    printf("%s events %lld\n", verb, r.events);
    printf("%s photos %lld (of reports rejected more than %ld days ago%s)\n", verb, r.photos,
           r.photo_days, r.photo_days > 0 ? "" : ": kept, retention 0");
    return 0;
}
