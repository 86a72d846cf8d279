/* cli/cmd_strip.c - `tipline strip`: removes what could identify the reporter from a
 * photo (see media/media.h), or prints the facts read from it as JSON.
 *
 *   tipline strip [--max-bytes N] [--max-pixels N] IN OUT   write the sanitized copy
 *   tipline strip --info [--max-bytes N] [--max-pixels N] IN print the facts as JSON
 *
 * IN or OUT may be "-" for stdin/stdout. OUT is written to a temporary file beside it
 * and renamed, so a refused or failed strip never leaves a partial OUT.
 *
 * int cmd_strip(int argc, char **argv): argv[0] is "strip"; returns the process exit
 * code: 0 done, 1 refused or failed (reason on stderr), 2 usage error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "media/media.h"
#include "common/util.h"
#include "common/banned.h"

static const char usage[] =
    "usage: tipline strip [--max-bytes N] [--max-pixels N] IN OUT\n"
    "       tipline strip --info [--max-bytes N] [--max-pixels N] IN\n"
    "\n"
    "Writes OUT, a copy of the photo IN without anything that could identify who took\n"
    "it: EXIF (GPS, camera serial, owner), XMP, IPTC, comments, thumbnails, device\n"
    "colour profiles, appended data. The picture itself is kept losslessly (JPEG\n"
    "entropy data byte for byte) and upright. JPEG, PNG, WebP and GIF are cleaned;\n"
    "HEIC, TIFF, RAW, video and anything else are refused with the reason.\n"
    "--info prints what was read (position, capture time, orientation, size) as JSON.\n"
    "IN and OUT may be - for stdin and stdout.\n"
    "Exit status: 0 done, 1 refused or failed, 2 usage.\n";

static int read_stdin(size_t max, unsigned char **out, size_t *len)
{
    struct tl_buf b;
    unsigned char chunk[65536];
    size_t n;
    int rc = TL_OK;
    tl_buf_init(&b, max);
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if ((rc = tl_buf_append(&b, chunk, n)) != TL_OK)
            break;
    if (rc == TL_OK && ferror(stdin))
        rc = TL_EIO;
    if (rc == TL_OK) {
        *out = tl_buf_steal(&b, len);
        if (!*out)
            *out = calloc(1, 1); /* empty input: an empty buffer, refused later */
        if (!*out)
            rc = TL_ENOMEM;
    }
    tl_buf_release(&b);
    return rc;
}

static int write_all(FILE *fp, const unsigned char *p, size_t n)
{
    if (n && fwrite(p, 1, n, fp) != n)
        return TL_EIO;
    return fflush(fp) == 0 ? TL_OK : TL_EIO;
}

static int write_out(const char *path, const unsigned char *p, size_t n)
{
    if (strcmp(path, "-") == 0)
        return write_all(stdout, p, n);
    char *tmp = tl_asprintf("%s.tmp.%ld", path, (long)getpid());
    if (!tmp)
        return TL_ENOMEM;
    int rc = TL_EIO;
    FILE *fp = fopen(tmp, "wb");
    if (fp) {
        rc = write_all(fp, p, n);
        if (fclose(fp) != 0)
            rc = TL_EIO;
    }
    if (rc == TL_OK && rename(tmp, path) != 0)
        rc = TL_EIO;
    if (rc != TL_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int parse_size(const char *s, unsigned long long *v)
{
    long long x;
    if (!s || tl_parse_ll(s, &x) != TL_OK || x <= 0)
        return -1;
    *v = (unsigned long long)x;
    return 0;
}

int cmd_strip(int argc, char **argv)
{
    struct media_limits lim = {.max_bytes = 0};
    struct media_facts facts;
    struct tl_errinfo ei;
    const char *in_path = NULL, *out_path = NULL;
    unsigned char *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    char *json = NULL;
    int info = 0, ret = 1, rc;
    unsigned long long v;

    tl_errinfo_clear(&ei);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--info") == 0) {
            info = 1;
        } else if (strcmp(a, "--max-bytes") == 0 || strcmp(a, "--max-pixels") == 0) {
            if (parse_size(i + 1 < argc ? argv[i + 1] : NULL, &v) != 0) {
                fprintf(stderr, "tipline strip: %s needs a positive number\n%s", a, usage);
                return 2;
            }
            if (a[6] == 'b')
                lim.max_bytes = (size_t)v;
            else
                lim.max_pixels = v;
            i++;
        } else if (a[0] == '-' && a[1] != 0) {
            fprintf(stderr, "tipline strip: unknown option %s\n%s", a, usage);
            return 2;
        } else if (!in_path) {
            in_path = a;
        } else if (!out_path) {
            out_path = a;
        } else {
            fprintf(stderr, "tipline strip: too many arguments\n%s", usage);
            return 2;
        }
    }
    if (!in_path || (info ? out_path != NULL : out_path == NULL)) {
        fputs(usage, stderr);
        return 2;
    }

    errno = 0;
    size_t max = lim.max_bytes ? lim.max_bytes : MEDIA_DEFAULT_MAX_BYTES;
    if (strcmp(in_path, "-") == 0) {
        rc = read_stdin(max, &in, &in_len);
    } else {
        char *buf = NULL;
        rc = tl_read_file(in_path, max, &buf, &in_len);
        in = (unsigned char *)buf;
    }
    if (rc != TL_OK) {
        fprintf(stderr, "tipline strip: cannot read %s: %s%s%s\n", in_path, tl_strerror(rc),
                errno ? ": " : "", errno ? strerror(errno) : "");
        goto out;
    }

    if (info) {
        rc = media_facts_read(in, in_len, &lim, &facts, &ei);
        if (rc == TL_OK)
            rc = media_facts_json(&facts, &json);
        if (rc == TL_OK && printf("%s\n", json) < 0)
            rc = TL_EIO;
    } else {
        rc = media_strip(in, in_len, &lim, &out, &out_len, &facts, &ei);
        if (rc == TL_OK && (rc = write_out(out_path, out, out_len)) != TL_OK)
            tl_errf(&ei, rc, "cannot write %s", out_path);
    }
    if (rc != TL_OK) {
        fprintf(stderr, "tipline strip: %s: %s\n", in_path, ei.msg[0] ? ei.msg : tl_strerror(rc));
        goto out;
    }
    ret = 0;
out:
    free(in);
    free(out);
    free(json);
    return ret;
}
