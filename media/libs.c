/* media/libs.c - opens FFmpeg's libraries and libheif with dlopen() on first use (see
 * libs.h): the sonames are those of the headers the build saw. */
#include "libs.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/banned.h"

#define STR_(x) #x
#define STR(x) STR_(x)

struct media_libs media_lib;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failed[256]; /* empty: loaded */

static void *open_lib(const char *soname)
{
    void *h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL); /* symbols bound when first called */
    if (!h && !failed[0])
        snprintf(failed, sizeof(failed), "cannot load %s: %s", soname, dlerror());
    return h;
}

static void load(void)
{
    void *lib = NULL;
    const char *missing = NULL;
#define SYM(f)                                                                                     \
    if (lib && !missing && !(media_lib.f = (__typeof__(f) *)dlsym(lib, #f)))                       \
        missing = #f;
    lib = open_lib("libavutil.so." STR(LIBAVUTIL_VERSION_MAJOR));
    MEDIA_LIB_AVUTIL(SYM)
    lib = open_lib("libavcodec.so." STR(LIBAVCODEC_VERSION_MAJOR));
    MEDIA_LIB_AVCODEC(SYM)
    lib = open_lib("libavformat.so." STR(LIBAVFORMAT_VERSION_MAJOR));
    MEDIA_LIB_AVFORMAT(SYM)
    lib = open_lib("libswscale.so." STR(LIBSWSCALE_VERSION_MAJOR));
    MEDIA_LIB_SWSCALE(SYM)
    lib = open_lib("libheif.so.1");
    MEDIA_LIB_HEIF(SYM)
#undef SYM
    if (missing && !failed[0])
        snprintf(failed, sizeof(failed), "a media library lacks %s", missing);
    if (!failed[0])
        media_lib.av_log_set_level(AV_LOG_QUIET); /* a hostile file writes no log lines */
}

int media_libs_load(struct tl_errinfo *ei)
{
    pthread_once(&once, load);
    if (failed[0])
        return tl_errf(ei, TL_EUNSUPPORTED, "videos and HEIC cannot be cleaned here (%s)", failed);
    return TL_OK;
}
