/* web/export_fmt.c - the exporters' file formats, row by row, so that a writer holds
 * one row at a time however large the export: GeoJSON (RFC 7946: WGS 84, longitude
 * first, no "crs"), GeoJSONSeq (RFC 8142: each feature after an RS, ending in LF), CSV
 * (RFC 4180: CRLF, quoted when needed, a header row, lon/lat and WKT columns, and an
 * optional HXL hashtag row) and KML 2.2. The properties are export_reports' columns:
 * nothing that identifies a reporter, and text only when the export asks for it. */
#include "web/web.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "storage/store_export.h"
#include "common/banned.h"

/* name, HXL hashtag, JSON kind ('s' string, 'n' number) */
static const struct {
    const char *name, *hxl;
    char kind;
} props[] = {
    {"ref", "#meta+ref", 's'},
    {"category", "#event+type", 's'},
    {"status", "#status", 's'},
    {"observed_at", "#date+occurred", 's'},
    {"received_at", "#date+reported", 's'},
    {"decided_at", "#date+reviewed", 's'},
    {"location_source", "#geo+source", 's'},
    {"accuracy_m", "#geo+accuracy+m", 'n'},
    {"corroborations", "#indicator+num+corroborations", 'n'},
    {"incident_id", "#event+id", 'n'},
    {"media_count", "#indicator+num+media", 'n'},
    {"cursor", "#meta+cursor", 's'},
    {"text", "#description", 's'}, /* only with_text: keep it last */
};
#define NPROPS (sizeof(props) / sizeof(props[0]))

static size_t nprops(const struct web_export_fmt *w)
{
    return w->with_text ? NPROPS : NPROPS - 1;
}

static void values(const struct store_export_row *r, const char *cursor, const char *v[NPROPS])
{
    v[0] = r->ref;
    v[1] = r->category;
    v[2] = r->status;
    v[3] = r->observed_at;
    v[4] = r->received_at;
    v[5] = r->decided_at;
    v[6] = r->point_source;
    v[7] = r->accuracy_m;
    v[8] = r->corroborations;
    v[9] = r->incident_id;
    v[10] = r->media_count;
    v[11] = cursor;
    v[12] = r->text;
}

int web_export_format_parse(const char *name, enum web_export_format *out)
{
    static const char *const names[] = {"geojson", "csv", "kml", "geojsonseq"};
    for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum web_export_format)i;
            return TL_OK;
        }
    return TL_EINVAL;
}

const char *web_export_mime(enum web_export_format f)
{
    switch (f) {
    case WEB_EXPORT_CSV:
        return "text/csv; charset=utf-8; header=present";
    case WEB_EXPORT_KML:
        return "application/vnd.google-earth.kml+xml";
    case WEB_EXPORT_GEOJSONSEQ:
        return "application/geo+json-seq";
    default:
        return "application/geo+json";
    }
}

static int put(struct tl_buf *b, const char *s)
{
    return tl_buf_append(b, s, strlen(s));
}

static int json_str(struct tl_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int e = tl_buf_append(b, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p && !e; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        e = tl_buf_append(b, run, (size_t)(p - run));
        char esc[7] = {'\\', (char)ch, 0};
        if (ch < 0x20) {
            char u[7] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15], 0};
            memcpy(esc, u, sizeof(u));
        }
        e = e ? e : put(b, esc);
        run = p + 1;
    }
    e = e ? e : tl_buf_append(b, run, strlen(run));
    return e ? e : tl_buf_append(b, "\"", 1);
}

/* PostgreSQL's text of a number is JSON's, but for NaN and the infinities. */
static int json_num_ok(const char *s)
{
    return s && ((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9'));
}

static int feature(const struct web_export_fmt *w, const struct store_export_row *r,
                   const char *cursor, struct tl_buf *b)
{
    const char *v[NPROPS];
    values(r, cursor, v);
    int e = put(b, "{\"type\":\"Feature\",\"id\":");
    e = e ? e : put(b, r->id);
    e = e ? e : put(b, ",\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
    e = e ? e : put(b, r->lon);
    e = e ? e : tl_buf_append(b, ",", 1);
    e = e ? e : put(b, r->lat);
    e = e ? e : put(b, "]},\"properties\":{");
    for (size_t i = 0; i < nprops(w) && !e; i++) {
        e = i ? tl_buf_append(b, ",\"", 2) : tl_buf_append(b, "\"", 1);
        e = e ? e : put(b, props[i].name);
        e = e ? e : tl_buf_append(b, "\":", 2);
        if (e)
            break;
        if (!v[i] || (props[i].kind == 'n' && !json_num_ok(v[i])))
            e = put(b, "null");
        else
            e = props[i].kind == 'n' ? put(b, v[i]) : json_str(b, v[i]);
    }
    return e ? e : put(b, "}}");
}

static int csv_field(struct tl_buf *b, const char *s)
{
    if (!s)
        return TL_OK;
    if (!s[strcspn(s, ",\"\r\n")])
        return put(b, s);
    int e = tl_buf_append(b, "\"", 1);
    for (const char *p = s; *p && !e; p++)
        e = *p == '"' ? tl_buf_append(b, "\"\"", 2) : tl_buf_append(b, p, 1);
    return e ? e : tl_buf_append(b, "\"", 1);
}

/* XML 1.0 text: the five entities, and no control character it forbids. */
static int xml_text(struct tl_buf *b, const char *s)
{
    int e = TL_OK;
    for (const char *p = s; *p && !e; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '<')
            e = put(b, "&lt;");
        else if (ch == '>')
            e = put(b, "&gt;");
        else if (ch == '&')
            e = put(b, "&amp;");
        else if (ch == '"')
            e = put(b, "&quot;");
        else if (ch == '\'')
            e = put(b, "&apos;");
        else if (ch >= 0x20 || ch == '\t' || ch == '\n' || ch == '\r')
            e = tl_buf_append(b, p, 1);
    }
    return e;
}

int web_export_head(struct web_export_fmt *w, struct tl_buf *b)
{
    int e = TL_OK;
    w->n = 0;
    switch (w->format) {
    case WEB_EXPORT_GEOJSON:
        return put(b, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    case WEB_EXPORT_GEOJSONSEQ:
        return TL_OK;
    case WEB_EXPORT_KML:
        return put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n"
                      "<name>tipline reports</name>\n");
    case WEB_EXPORT_CSV:
        e = put(b, "id");
        for (size_t i = 0; i < nprops(w) && !e; i++) {
            if (i == NPROPS - 1) /* text after the geometry columns */
                e = put(b, ",lon,lat,wkt");
            e = e ? e : tl_buf_printf(b, ",%s", props[i].name);
        }
        e = e ? e : put(b, w->with_text ? "\r\n" : ",lon,lat,wkt\r\n");
        if (w->hxl) {
            e = e ? e : put(b, "#meta+id");
            for (size_t i = 0; i < nprops(w) && !e; i++) {
                if (i == NPROPS - 1)
                    e = put(b, ",#geo+lon,#geo+lat,#geo+wkt");
                e = e ? e : tl_buf_printf(b, ",%s", props[i].hxl);
            }
            e = e ? e : put(b, w->with_text ? "\r\n" : ",#geo+lon,#geo+lat,#geo+wkt\r\n");
        }
        return e;
    }
    return TL_EINVAL;
}

void web_export_cursor(const struct store_export_row *r, char out[WEB_EXPORT_CURSOR])
{
    tl_strlcpy(out, "", WEB_EXPORT_CURSOR);
    if (r) { /* "<decided_us>_<id>", twice 20 digits at most: no snprintf per row */
        size_t n = tl_lltoa(r->decided_us, out);
        out[n++] = '_';
        tl_lltoa(r->id_num, out + n);
    }
}

int web_export_row(struct web_export_fmt *w, const struct store_export_row *r, struct tl_buf *b)
{
    char cursor[WEB_EXPORT_CURSOR];
    const char *v[NPROPS];
    int e = TL_OK;
    web_export_cursor(r, cursor);
    switch (w->format) {
    case WEB_EXPORT_GEOJSON:
        e = w->n ? put(b, ",\n") : TL_OK;
        e = e ? e : feature(w, r, cursor, b);
        break;
    case WEB_EXPORT_GEOJSONSEQ:
        e = tl_buf_append(b, "\x1e", 1);
        e = e ? e : feature(w, r, cursor, b);
        e = e ? e : put(b, "\n");
        break;
    case WEB_EXPORT_CSV:
        values(r, cursor, v);
        e = put(b, r->id);
        for (size_t i = 0; i < nprops(w) && !e; i++) {
            if (i == NPROPS - 1)
                e = tl_buf_printf(b, ",%s,%s,POINT (%s %s)", r->lon, r->lat, r->lon, r->lat);
            e = e ? e : tl_buf_append(b, ",", 1);
            e = e ? e : csv_field(b, v[i]);
        }
        if (!w->with_text && !e)
            e = tl_buf_printf(b, ",%s,%s,POINT (%s %s)", r->lon, r->lat, r->lon, r->lat);
        e = e ? e : put(b, "\r\n");
        break;
    case WEB_EXPORT_KML:
        values(r, cursor, v);
        e = tl_buf_printf(b, "<Placemark id=\"r%s\"><name>", r->id);
        e = e ? e : xml_text(b, r->ref ? r->ref : "");
        e = e ? e : put(b, "</name>");
        if (r->observed_at && !e) {
            e = put(b, "<TimeStamp><when>");
            e = e ? e : xml_text(b, r->observed_at);
            e = e ? e : put(b, "</when></TimeStamp>");
        }
        e = e ? e : put(b, "<ExtendedData>");
        for (size_t i = 0; i < nprops(w) && !e; i++) {
            if (!v[i])
                continue;
            e = tl_buf_printf(b, "<Data name=\"%s\"><value>", props[i].name);
            e = e ? e : xml_text(b, v[i]);
            e = e ? e : put(b, "</value></Data>");
        }
        e = e ? e
              : tl_buf_printf(b,
                              "</ExtendedData><Point><coordinates>%s,%s</coordinates></Point>"
                              "</Placemark>\n",
                              r->lon, r->lat);
        break;
    }
    w->n++;
    return e;
}

int web_export_tail(struct web_export_fmt *w, struct tl_buf *b)
{
    switch (w->format) {
    case WEB_EXPORT_GEOJSON:
        return put(b, "\n]}\n");
    case WEB_EXPORT_KML:
        return put(b, "</Document>\n</kml>\n");
    default:
        return TL_OK;
    }
}
