/* cli/cmd_strip.c - `tipline strip`: removes what could identify the reporter from
 * photos and videos (see media/media.h), or prints the facts read from them as JSON.
 *
 *   tipline strip [OPTIONS] IN OUT                 write the sanitized copy of IN to OUT
 *   tipline strip [OPTIONS] -o DIR FILE...         a copy of each FILE into DIR
 *   tipline strip [OPTIONS] --in-place FILE...     each FILE replaced by its copy
 *   tipline strip --info [OPTIONS] FILE...         one JSON line of facts per FILE
 *
 * IN or OUT may be "-" for stdin/stdout. Every output is written to a temporary file
 * beside it and renamed, so a refused or failed strip never leaves a partial file. Many
 * files go through one process: the libraries load once.
 *
 * argv[0] is "strip"; returns the process exit code: 0 all done, 1 any refused or failed
 * (reasons on stderr), 2 usage error. Its options are parsed here rather than by the
 * option table (cli/opt.h) for the short "-o DIR" that file tools are used with. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "media/media.h"
#include "common/util.h"
#include "common/banned.h"

static const char usage[] =
    "usage: tipline strip [OPTIONS] IN OUT\n"
    "       tipline strip [OPTIONS] -o DIR FILE...\n"
    "       tipline strip [OPTIONS] --in-place FILE...\n"
    "       tipline strip --info [OPTIONS] FILE...\n"
    "\n"
    "Writes a copy of a photo or video without anything that could identify who took\n"
    "it: EXIF (GPS, camera serial, owner), XMP, IPTC, comments, thumbnails, device\n"
    "colour profiles, appended data; in videos every metadata box, chapter, cover image,\n"
    "data/telemetry/timecode track, with creation times zeroed. JPEG, PNG, WebP and GIF\n"
    "are kept losslessly and upright; MP4/MOV videos are copied packet for packet into\n"
    "an MP4 (rotation kept, nothing re-encoded); HEIC/HEIF photos are decoded and written\n"
    "as an upright JPEG. TIFF, RAW, WebM, AVI and anything else are refused with the\n"
    "reason.\n"
    "  -o DIR         write each copy into DIR under its name (.mp4 for a video, .jpg for\n"
    "                 a HEIC)\n"
    "  --in-place     replace each FILE by its copy (the name is kept)\n"
    "  --info         print what was read (position, capture time, orientation, size,\n"
    "                 duration) as one JSON object per line, with \"file\" (and \"error\")\n"
    "  --drop-audio   remove a video's sound (kept by default: it is evidence)\n"
    "  --max-bytes N, --max-pixels N, --max-duration SECONDS   limits (50 MiB, 100 MP, 600 s)\n"
    "IN and OUT may be - for stdin and stdout.\n"
    "Exit status: 0 all done, 1 any refused or failed, 2 usage.\n";

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

/* n bytes to fd with write(2) (no stdio buffer: the copy is already whole in memory). */
static int write_fd(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return TL_EIO;
        p += w;
        n -= (size_t)w;
    }
    return TL_OK;
}

/* The copy written to a temporary file beside path (O_EXCL: never through a file or link
 * someone left there), then renamed over it. */
static int write_out(const char *path, const unsigned char *p, size_t n)
{
    if (strcmp(path, "-") == 0)
        return write_all(stdout, p, n);
    char *tmp = tl_asprintf("%s.tmp.%ld", path, (long)getpid());
    if (!tmp)
        return TL_ENOMEM;
    int rc = TL_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
        rc = write_fd(fd, p, n);
        if (close(fd) != 0)
            rc = TL_EIO;
        if (rc == TL_OK && rename(tmp, path) != 0)
            rc = TL_EIO;
        if (rc != TL_OK)
            unlink(tmp);
    }
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

/* A file's bytes: a regular file is mapped (no copy: a video is read once, by media/),
 * anything else (stdin, a pipe) read. *mapped says which; release with drop_in. */
static int read_in(const char *path, size_t max, unsigned char **in, size_t *len, int *mapped)
{
    struct stat st;
    *mapped = 0;
    if (strcmp(path, "-") == 0)
        return read_stdin(max, in, len);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        if ((unsigned long long)st.st_size > max) {
            close(fd);
            errno = 0;
            return TL_ETOOBIG;
        }
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p != MAP_FAILED) {
            *in = p;
            *len = (size_t)st.st_size;
            *mapped = 1;
            return TL_OK;
        }
    } else if (fd >= 0) {
        close(fd);
    }
    char *buf = NULL;
    int rc = tl_read_file(path, max, &buf, len);
    *in = (unsigned char *)buf;
    return rc;
}

static void drop_in(unsigned char *in, size_t len, int mapped)
{
    if (mapped)
        munmap(in, len);
    else
        free(in);
}

/* The JSON string of s (quotes included) appended to b. */
static int json_str(struct tl_buf *b, const char *s)
{
    int rc = tl_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
        if (*p == '"' || *p == '\\')
            rc = tl_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            rc = tl_buf_printf(b, "\\u%04x", *p);
        else
            rc = tl_buf_append(b, p, 1);
    }
    return rc ? rc : tl_buf_append(b, "\"", 1);
}

/* One line: the facts object with "file" last, or {"file":..,"error":..}. */
static int print_info(const char *path, const char *facts_json, const char *error)
{
    struct tl_buf b;
    tl_buf_init(&b, 0);
    int rc;
    if (facts_json) {
        size_t n = strlen(facts_json);
        rc = tl_buf_append(&b, facts_json, n - 1); /* without its closing brace */
        if (!rc)
            rc = tl_buf_append(&b, ",\"file\":", 8);
    } else {
        rc = tl_buf_append(&b, "{\"file\":", 8);
    }
    if (!rc)
        rc = json_str(&b, path);
    if (!rc && error && !(rc = tl_buf_append(&b, ",\"error\":", 9)))
        rc = json_str(&b, error);
    if (!rc)
        rc = tl_buf_append(&b, "}\n", 2);
    if (!rc && fwrite(b.data, 1, b.len, stdout) != b.len)
        rc = TL_EIO;
    tl_buf_release(&b);
    return rc;
}

/* DIR/<name of path>, its extension made to say what the copy is. */
static char *out_name(const char *dir, const char *path, enum media_format kept)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    const char *ext = kept == MEDIA_VIDEO ? ".mp4"
                      : kept == MEDIA_JPEG && dot &&
                              (strcasecmp(dot, ".heic") == 0 || strcasecmp(dot, ".heif") == 0)
                          ? ".jpg"
                          : (dot && dot != base ? dot : "");
    return tl_asprintf("%s/%.*s%s", dir, (int)stem, base, ext);
}

enum mode { M_PAIR, M_DIR, M_INPLACE, M_INFO };

/* One file through media/: 0 done, 1 refused or failed (said on stderr or in the JSON). */
static int one(enum mode mode, const struct media_limits *lim, const char *in_path,
               const char *dest)
{
    struct media_facts facts;
    struct tl_errinfo ei;
    unsigned char *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    char *json = NULL, *target = NULL;
    int rc, ret = 1, mapped = 0;
    tl_errinfo_clear(&ei);
    errno = 0;
    rc = read_in(in_path, lim->max_bytes ? lim->max_bytes : MEDIA_DEFAULT_MAX_BYTES, &in, &in_len,
                 &mapped);
    if (rc != TL_OK) {
        tl_errf(&ei, rc, "cannot read it: %s%s%s", tl_strerror(rc), errno ? ": " : "",
                errno ? strerror(errno) : "");
    } else if (mode == M_INFO) {
        rc = media_facts_read(in, in_len, lim, &facts, &ei);
        if (rc == TL_OK)
            rc = media_facts_json(&facts, &json);
    } else {
        rc = media_strip(in, in_len, lim, &out, &out_len, &facts, &ei);
        if (rc == TL_OK) {
            target = mode == M_DIR ? out_name(dest, in_path, media_detect(out, out_len))
                                   : tl_strdup(mode == M_INPLACE ? in_path : dest);
            if (!target)
                rc = TL_ENOMEM;
            else if ((rc = write_out(target, out, out_len)) != TL_OK)
                tl_errf(&ei, rc, "cannot write %s", target);
        }
    }
    const char *why = rc == TL_OK ? NULL : ei.msg[0] ? ei.msg : tl_strerror(rc);
    if (mode == M_INFO) {
        if (print_info(in_path, json, why) != TL_OK) {
            fprintf(stderr, "tipline strip: cannot write to stdout\n");
            why = "stdout";
        }
    } else if (why) {
        fprintf(stderr, "tipline strip: %s: %s\n", in_path, why);
    }
    if (!why)
        ret = 0;
    drop_in(in, in_len, mapped);
    free(out);
    free(json);
    free(target);
    return ret;
}

int cmd_strip(int argc, char **argv, struct cli_ctx *ctx)
{
    (void)ctx; /* strip reads no configuration: every limit is an option */
    struct media_limits lim = {.max_bytes = 0};
    const char *dir = NULL;
    enum mode mode = M_PAIR;
    int nfiles = 0, ret = 0;
    unsigned long long v;
    char **files = calloc((size_t)argc, sizeof(char *));
    if (!files)
        return 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            free(files);
            return 0;
        } else if (strcmp(a, "--info") == 0) {
            mode = M_INFO;
        } else if (strcmp(a, "--in-place") == 0) {
            mode = M_INPLACE;
        } else if (strcmp(a, "--drop-audio") == 0) {
            lim.drop_audio = 1;
        } else if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tipline strip: -o needs a directory\n%s", usage);
                free(files);
                return 2;
            }
            dir = argv[++i];
            mode = M_DIR;
        } else if (strcmp(a, "--max-bytes") == 0 || strcmp(a, "--max-pixels") == 0 ||
                   strcmp(a, "--max-duration") == 0) {
            if (parse_size(i + 1 < argc ? argv[i + 1] : NULL, &v) != 0 ||
                (a[6] == 'd' && v > 0xFFFFFFFFull)) {
                fprintf(stderr, "tipline strip: %s needs a positive number\n%s", a, usage);
                free(files);
                return 2;
            }
            if (a[6] == 'b')
                lim.max_bytes = (size_t)v;
            else if (a[6] == 'p')
                lim.max_pixels = v;
            else
                lim.max_duration_s = (unsigned)v;
            i++;
        } else if (a[0] == '-' && a[1] != 0) {
            fprintf(stderr, "tipline strip: unknown option %s\n%s", a, usage);
            free(files);
            return 2;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    /* -o, --in-place and --info: the last one given wins */
    if (nfiles == 0 || (mode == M_PAIR && nfiles != 2)) {
        fputs(usage, stderr);
        free(files);
        return 2;
    }
    /* Each copy is a buffer of about its input's size, freed before the next file. Above
     * glibc's mmap threshold (128 KiB at first) every one was a fresh mapping the kernel
     * faulted in and zeroed page by page, then unmapped: kept on the heap, the next file
     * reuses pages already there (260 photos: 1,560 page faults instead of 1,810, about
     * 2 % of the batch's CPU). 32 MiB is the largest threshold glibc takes; larger videos
     * still map. */
    if (nfiles > 1) {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 64 << 20);
    }
    if (mode == M_PAIR)
        ret = one(M_PAIR, &lim, files[0], files[1]);
    else
        for (int i = 0; i < nfiles; i++)
            if (one(mode, &lim, files[i], dir) != 0)
                ret = 1;
    if (mode == M_INFO && fflush(stdout) != 0)
        ret = 1;
    free(files);
    return ret;
}
