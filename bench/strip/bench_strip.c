/* bench/strip/bench_strip.c - prints how fast media/ strips and hashes photos.
 *
 *   bench_strip [--seconds S] [--tmp DIR] [FILE...]
 *
 * 1. strip: media_strip over FILE... (the test corpus; run.sh passes it), repeated for
 *    S seconds: MB/s of input and files/s.
 * 2. pHash on Telegram-size photos: 32 generated 1280x960 JPEGs (photo-like, with
 *    sensor-like noise so the entropy data is realistic): photos/s.
 * 3. pHash on 12-megapixel JPEGs (4000x3000) beside the floor: `djpeg -scale 1/8` on the
 *    same files (the entropy decoding both must do), run as a process per file as a
 *    user would, and the same decode in-process through TurboJPEG.
 * Lines starting with "figure " are key=value for run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media/media.h"
#include "common/util.h"
#include "fakebot/photos.h"
#include "common/banned.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this thread: the machine is shared, so CPU time is the figure that
 * does not depend on what the neighbours run; wall time is printed beside it. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double children_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

struct file {
    char *name;
    unsigned char *p;
    size_t n;
};

/* Photo-like pixels with per-pixel noise, made at 1/4 size and upscaled (fast). */
static unsigned char *noisy_photo(int w, int h, uint32_t seed)
{
    int bw = w / 4, bh = h / 4;
    unsigned char *base = fx_photo_rgb(bw, bh, seed);
    unsigned char *px = malloc((size_t)w * h * 3);
    uint32_t s = seed ^ 0x9E3779B9u;
    if (!px)
        abort();
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx = x / 4 < bw ? x / 4 : bw - 1, sy = y / 4 < bh ? y / 4 : bh - 1;
            for (int c = 0; c < 3; c++) {
                int v = base[((size_t)sy * bw + sx) * 3 + c] + (int)(fx_rng(&s) % 25) - 12;
                px[((size_t)y * w + x) * 3 + c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    free(base);
    return px;
}

static void bench_strip_files(struct file *f, int nf, double secs)
{
    size_t bytes = 0, files = 0, out_bytes = 0;
    int ok = 0;
    for (int i = 0; i < nf; i++) {
        unsigned char *out = NULL;
        size_t out_len;
        struct tl_errinfo ei;
        if (media_strip(f[i].p, f[i].n, NULL, &out, &out_len, NULL, &ei) == TL_OK)
            ok++;
        else
            printf("  (refused %s: %s)\n", f[i].name, ei.msg);
        free(out);
    }
    double t0 = now(), c0 = cpu(), t;
    do {
        for (int i = 0; i < nf; i++) {
            unsigned char *out = NULL;
            size_t out_len = 0;
            struct tl_errinfo ei;
            if (media_strip(f[i].p, f[i].n, NULL, &out, &out_len, NULL, &ei) == TL_OK)
                out_bytes += out_len;
            free(out);
            bytes += f[i].n;
            files++;
        }
        t = now() - t0;
    } while (t < secs);
    printf("strip: %d files (%d stripped, rest refused), %.1f MB per pass, %zu passes in %.2f s\n",
           nf, ok, (double)bytes / (double)(files / (size_t)nf) / 1e6, files / (size_t)nf, t);
    double c = cpu() - c0;
    printf("figure strip_mbps=%.1f strip_files_per_s=%.0f strip_cpu_mbps=%.1f "
           "strip_cpu_files_per_s=%.0f strip_out_ratio=%.3f\n",
           (double)bytes / t / 1e6, (double)files / t, (double)bytes / c / 1e6, (double)files / c,
           (double)out_bytes / (double)bytes);
}

struct hash_job {
    struct file *f;
    int n;
    double secs;
    size_t done;
    double cpu_s, wall_s;
};

static void *hash_loop(void *arg)
{
    struct hash_job *j = arg;
    double t0 = now(), c0 = cpu();
    do {
        for (int i = 0; i < j->n; i++) {
            uint64_t h;
            struct tl_errinfo ei;
            if (media_phash(j->f[i].p, j->f[i].n, NULL, &h, &ei) != TL_OK)
                abort();
            j->done++;
        }
        j->wall_s = now() - t0;
    } while (j->wall_s < j->secs);
    j->cpu_s = cpu() - c0;
    return NULL;
}

static void bench_phash_1280(double secs)
{
    enum { NPH = 32 };
    struct file f[NPH];
    size_t total = 0;
    for (int i = 0; i < NPH; i++) {
        unsigned char *rgb = noisy_photo(1280, 960, (uint32_t)(1000 + i));
        f[i].p = fx_jpeg_encode(rgb, 1280, 960, 87, &f[i].n);
        total += f[i].n;
        free(rgb);
    }
    struct hash_job one = {f, NPH, secs, 0, 0, 0};
    hash_loop(&one);
    /* two workers, as the server runs them (2 cores here) */
    struct hash_job two[2] = {{f, NPH / 2, secs, 0, 0, 0}, {f + NPH / 2, NPH / 2, secs, 0, 0, 0}};
    pthread_t th[2];
    double t0 = now();
    for (int k = 0; k < 2; k++)
        if (pthread_create(&th[k], NULL, hash_loop, &two[k]) != 0)
            abort();
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    double wall2 = now() - t0;
    printf("phash 1280x960: %d distinct JPEGs of %.0f KB average\n", NPH,
           (double)total / NPH / 1024);
    printf("figure phash1280_per_s=%.0f phash1280_per_cpu_s=%.0f phash1280_cpu_ms=%.3f "
           "phash1280_2threads_per_s=%.0f\n",
           (double)one.done / one.wall_s, (double)one.done / one.cpu_s,
           one.cpu_s * 1000 / (double)one.done, (double)(two[0].done + two[1].done) / wall2);
    for (int i = 0; i < NPH; i++)
        free(f[i].p);
}

static void bench_phash_12mp(const char *tmp, int reps)
{
    enum { N12 = 3 };
    struct file f[N12];
    char *paths[N12];
    for (int i = 0; i < N12; i++) {
        unsigned char *rgb = noisy_photo(4000, 3000, (uint32_t)(2000 + i));
        f[i].p = fx_jpeg_encode(rgb, 4000, 3000, 90, &f[i].n);
        free(rgb);
        paths[i] = tl_asprintf("%s/bench12mp_%d.jpg", tmp, i);
        FILE *fp = fopen(paths[i], "wb");
        if (!fp || fwrite(f[i].p, 1, f[i].n, fp) != f[i].n || fclose(fp) != 0)
            abort();
    }
    /* Interleaved, best of reps per file: ours, the same 1/8 decode to RGB in-process,
     * and `djpeg -scale 1/8` as a process (CPU time of the child, start-up included). */
    double ours = 0, floor_tj = 0, floor_djpeg = 0, ours_cpu = 0, djpeg_cpu = 0;
    int have_djpeg = access("/usr/bin/djpeg", X_OK) == 0;
    tjhandle tj = tjInitDecompress();
    unsigned char *buf = malloc(500 * 375 * 3);
    for (int i = 0; i < N12; i++) {
        double b_ours = 1e9, b_tj = 1e9, b_dj = 1e9, b_ours_cpu = 1e9, b_dj_cpu = 1e9;
        for (int r = 0; r < reps; r++) {
            uint64_t h;
            struct tl_errinfo ei;
            double t0 = now(), c0 = cpu();
            if (media_phash(f[i].p, f[i].n, NULL, &h, &ei) != TL_OK)
                abort();
            double t = now() - t0, c = cpu() - c0;
            b_ours = t < b_ours ? t : b_ours;
            b_ours_cpu = c < b_ours_cpu ? c : b_ours_cpu;
            t0 = now();
            if (tjDecompress2(tj, f[i].p, (unsigned long)f[i].n, buf, 500, 0, 375, TJPF_RGB, 0))
                abort();
            t = now() - t0;
            b_tj = t < b_tj ? t : b_tj;
            if (have_djpeg) {
                char *cmd =
                    tl_asprintf("/usr/bin/djpeg -scale 1/8 -outfile /dev/null '%s'", paths[i]);
                t0 = now();
                c0 = children_cpu();
                if (system(cmd) != 0)
                    abort();
                t = now() - t0;
                c = children_cpu() - c0;
                b_dj = t < b_dj ? t : b_dj;
                b_dj_cpu = c < b_dj_cpu ? c : b_dj_cpu;
                free(cmd);
            }
        }
        ours += b_ours * 1000 / N12;
        ours_cpu += b_ours_cpu * 1000 / N12;
        floor_tj += b_tj * 1000 / N12;
        floor_djpeg += have_djpeg ? b_dj * 1000 / N12 : 0;
        djpeg_cpu += have_djpeg ? b_dj_cpu * 1000 / N12 : 0;
    }
    tjDestroy(tj);
    free(buf);
    size_t total = 0;
    for (int i = 0; i < N12; i++)
        total += f[i].n;
    printf("phash 4000x3000: %d distinct JPEGs of %.1f MB average, best of %d\n", N12,
           (double)total / N12 / 1e6, reps);
    printf("figure phash12mp_ms=%.2f djpeg_scale8_ms=%.2f tj_scale8_ms=%.2f "
           "ratio_vs_djpeg=%.2f ratio_vs_tj=%.2f phash12mp_cpu_ms=%.2f djpeg_scale8_cpu_ms=%.2f "
           "cpu_ratio_vs_djpeg=%.2f\n",
           ours, floor_djpeg, floor_tj, have_djpeg ? ours / floor_djpeg : -1, ours / floor_tj,
           ours_cpu, djpeg_cpu, have_djpeg && djpeg_cpu > 0 ? ours_cpu / djpeg_cpu : -1);
    for (int i = 0; i < N12; i++) {
        unlink(paths[i]);
        free(paths[i]);
        free(f[i].p);
    }
}

int main(int argc, char **argv)
{
    double secs = 2;
    const char *tmp = "/tmp";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            secs = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--tmp") == 0 && i + 1 < argc)
            tmp = argv[++i];
        else {
            fprintf(stderr, "usage: bench_strip [--seconds S] [--tmp DIR] [FILE...]\n");
            return 2;
        }
    }
    int nf = argc - i;
    struct file *f = calloc((size_t)(nf ? nf : 8), sizeof(*f));
    for (int k = 0; k < nf; k++) {
        char *buf;
        f[k].name = argv[i + k];
        if (tl_read_file(argv[i + k], 64u << 20, &buf, &f[k].n) != TL_OK) {
            fprintf(stderr, "bench_strip: cannot read %s\n", argv[i + k]);
            return 1;
        }
        f[k].p = (unsigned char *)buf;
    }
    if (nf == 0) {
        /* no corpus given: phone-like generated JPEGs with full metadata */
        nf = 8;
        for (int k = 0; k < nf; k++) {
            size_t n;
            unsigned char *rgb = noisy_photo(1280, 960, (uint32_t)k);
            unsigned char *j = fx_jpeg_encode(rgb, 1280, 960, 87, &n);
            struct fx_exif x = {50.45,    30.52, 17950, 0, 470, "2026:02:24 05:41:07",
                                "+02:00", 6,     NULL,  0};
            f[k].name = "generated";
            f[k].p = fx_jpeg_dirty(j, n, &x, 1, &f[k].n);
            free(j);
            free(rgb);
        }
    }
    bench_strip_files(f, nf, secs);
    bench_phash_1280(secs);
    bench_phash_12mp(tmp, 5);
    for (int k = 0; k < nf; k++)
        free(f[k].p);
    free(f);
    return 0;
}
