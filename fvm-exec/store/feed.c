/*
 * feed.c — a VMcast feed written and parsed with libxml2 (feed.h).
 *
 * Rules: the writer is xmlTextWriter (every text and attribute escaped by libxml2); the
 * parser is xmlReadMemory without network, entities or a DTD (a document with one is
 * refused), then a walk of the tree that reads text only from text and CDATA nodes.
 * Nothing is printf'd into XML and nothing is searched for in it as a string.
 */
#include "store/feed.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/minisign.h"

static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void feed_rfc822(long long t, char out[40])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		memset(&tm, 0, sizeof(tm));
	}
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

static void rfc3339(long long t, char out[80])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		memset(&tm, 0, sizeof(tm));
	}
	snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- writing ---- */

#define X(s) ((const xmlChar *)(s))

static int el_text(xmlTextWriterPtr w, const char *prefix, const char *name, const char *text)
{
	if (prefix) {
		return xmlTextWriterWriteElementNS(w, X(prefix), X(name), NULL, X(text ? text : ""));
	}
	return xmlTextWriterWriteElement(w, X(name), X(text ? text : ""));
}

static int el_u64(xmlTextWriterPtr w, const char *prefix, const char *name, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	return el_text(w, prefix, name, b);
}

static int attr_u64(xmlTextWriterPtr w, const char *name, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	return xmlTextWriterWriteAttribute(w, X(name), X(b));
}

static int write_item(xmlTextWriterPtr w, const struct feed_item *it)
{
	char date[40], guid[32];
	int r = 0;

	snprintf(guid, sizeof(guid), "v%" PRIu64, it->version);
	feed_rfc822(it->pubdate, date);
	r |= xmlTextWriterStartElement(w, X("item")) < 0;
	r |= el_text(w, NULL, "title", it->title) < 0;
	r |= xmlTextWriterStartElement(w, X("guid")) < 0;
	r |= xmlTextWriterWriteAttribute(w, X("isPermaLink"), X("false")) < 0;
	r |= xmlTextWriterWriteString(w, X(guid)) < 0;
	r |= xmlTextWriterEndElement(w) < 0;
	r |= el_text(w, NULL, "pubDate", date) < 0;
	r |= el_text(w, NULL, "description", it->description) < 0;
	r |= xmlTextWriterStartElement(w, X("enclosure")) < 0;
	r |= xmlTextWriterWriteAttribute(w, X("url"), X(it->enclosure_url ? it->enclosure_url : "")) < 0;
	r |= attr_u64(w, "length", it->enclosure_length) < 0;
	r |= xmlTextWriterWriteAttribute(w, X("type"), X(FEED_LAYER_TYPE)) < 0;
	r |= xmlTextWriterEndElement(w) < 0;
	r |= el_u64(w, "fvm", "version", it->version) < 0;
	r |= xmlTextWriterStartElementNS(w, X("fvm"), X("changes"), NULL) < 0;
	r |= attr_u64(w, "added", it->added) < 0;
	r |= attr_u64(w, "modified", it->modified) < 0;
	r |= attr_u64(w, "deleted", it->deleted) < 0;
	r |= attr_u64(w, "bytes", it->bytes) < 0;
	r |= xmlTextWriterEndElement(w) < 0;
	r |= xmlTextWriterStartElementNS(w, X("fvm"), X("layers"), NULL) < 0;
	for (size_t i = 0; i < it->nlayers; i++) {
		const struct feed_layer *l = &it->layers[i];
		r |= xmlTextWriterStartElementNS(w, X("fvm"), X("layer"), NULL) < 0;
		r |= xmlTextWriterWriteAttribute(w, X("digest"), X(l->digest)) < 0;
		r |= attr_u64(w, "size", l->size) < 0;
		r |= el_text(w, "fvm", "signature", l->signature) < 0;
		r |= xmlTextWriterEndElement(w) < 0;
	}
	r |= xmlTextWriterEndElement(w) < 0;
	r |= xmlTextWriterEndElement(w) < 0;
	return r ? -1 : 0;
}

int feed_write(const struct feed *f, char **out, size_t *len, const char **why)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	char date[40], until[80];
	int r = 0;

	if (!w) {
		if (buf) {
			xmlBufferFree(buf);
		}
		*why = "out of memory";
		return -1;
	}
	feed_rfc822(f->built, date);
	rfc3339(f->valid_until, until);
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, X("  "));
	r |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
	r |= xmlTextWriterStartElement(w, X("rss")) < 0;
	r |= xmlTextWriterWriteAttribute(w, X("version"), X("2.0")) < 0;
	r |= xmlTextWriterWriteAttribute(w, X("xmlns:fvm"), X(FEED_NS)) < 0;
	r |= xmlTextWriterStartElement(w, X("channel")) < 0;
	r |= el_text(w, NULL, "title", f->title) < 0;
	r |= el_text(w, NULL, "link", f->link) < 0;
	r |= el_text(w, NULL, "description", f->description) < 0;
	r |= el_text(w, NULL, "lastBuildDate", date) < 0;
	r |= el_text(w, NULL, "generator", "fvm " FVM_VERSION) < 0;
	r |= el_u64(w, "fvm", "sequence", f->sequence) < 0;
	r |= el_text(w, "fvm", "validUntil", until) < 0;
	if (f->successor_pub && f->successor_sig) {
		r |= xmlTextWriterStartElementNS(w, X("fvm"), X("successor"), NULL) < 0;
		r |= el_text(w, "fvm", "publicKey", f->successor_pub) < 0;
		r |= el_text(w, "fvm", "signature", f->successor_sig) < 0;
		r |= xmlTextWriterEndElement(w) < 0;
	}
	for (size_t i = 0; i < f->nitems && !r; i++) {
		r |= write_item(w, &f->items[i]) < 0;
	}
	r |= xmlTextWriterEndDocument(w) < 0; /* closes channel and rss */
	xmlFreeTextWriter(w);
	if (r) {
		xmlBufferFree(buf);
		*why = "libxml2 could not write the feed (text that is not UTF-8?)";
		return -1;
	}
	*len = (size_t)xmlBufferLength(buf);
	*out = malloc(*len + 1);
	if (!*out) {
		xmlBufferFree(buf);
		*why = "out of memory";
		return -1;
	}
	memcpy(*out, xmlBufferContent(buf), *len);
	(*out)[*len] = '\0';
	xmlBufferFree(buf);
	return 0;
}

/* ---- parsing ---- */

struct pctx {
	char *why;
	size_t whylen;
};

static int fail(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct pctx *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, p->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_rss(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !n->ns && strcmp((const char *)n->name, name) == 0;
}

static bool is_fvm(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, FEED_NS) == 0 && strcmp((const char *)n->name, name) == 0;
}

/*
 * The text of element N (text and CDATA children only; an element or entity child is
 * refused), malloc'd. NULL with the reason set.
 */
static char *text_of(struct pctx *p, const xmlNode *n, size_t max)
{
	size_t len = 0;
	char *s;

	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			len += c->content ? strlen((const char *)c->content) : 0;
		} else if (c->type != XML_COMMENT_NODE) {
			fail(p, "<%s> holds something other than text", (const char *)n->name);
			return NULL;
		}
	}
	if (len > max) {
		fail(p, "<%s> is longer than %zu bytes", (const char *)n->name, max);
		return NULL;
	}
	s = malloc(len + 1);
	if (!s) {
		fail(p, "out of memory");
		return NULL;
	}
	len = 0;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
			size_t l = strlen((const char *)c->content);
			memcpy(s + len, c->content, l);
			len += l;
		}
	}
	s[len] = '\0';
	return s;
}

/* A decimal number without sign, spaces or overflow. */
static bool parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!s || !*s || strlen(s) > 20) {
		return false;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
			return false;
		}
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return true;
}

static int text_u64(struct pctx *p, const xmlNode *n, uint64_t *v)
{
	char *s = text_of(p, n, 32);
	bool ok = s && parse_u64(s, v);

	free(s);
	if (!ok) {
		return s ? fail(p, "<%s> is not a decimal number", (const char *)n->name) : -1;
	}
	return 0;
}

static int attr_num(struct pctx *p, const xmlNode *n, const char *name, uint64_t *v)
{
	xmlChar *a = xmlGetNoNsProp(n, X(name));
	bool ok = a && parse_u64((const char *)a, v);

	xmlFree(a);
	return ok ? 0 : fail(p, "<%s %s=...> missing or not a decimal number", (const char *)n->name, name);
}

static bool valid_digest(const char *d)
{
	if (strlen(d) != FEED_DIGEST_LEN || strncmp(d, "sha256:", 7) != 0) {
		return false;
	}
	for (const char *h = d + 7; *h; h++) {
		if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f'))) {
			return false;
		}
	}
	return true;
}

static int month_of(const char *m)
{
	for (int i = 0; i < 12; i++) {
		if (strncmp(m, months[i], 3) == 0) {
			return i;
		}
	}
	return -1;
}

/* RFC 822 as feed_rfc822 writes it ("GMT" or "+0000" zone); -1 when not. */
static int parse_rfc822(const char *s, long long *t)
{
	char wd[4], mon[4], zone[6];
	int d, y, H, M, S, n = 0;
	struct tm tm = {0};

	if (sscanf(s, "%3s, %d %3s %d %d:%d:%d %5s%n", wd, &d, mon, &y, &H, &M, &S, zone, &n) != 8 ||
	    s[n] != '\0' || (strcmp(zone, "+0000") != 0 && strcmp(zone, "GMT") != 0) ||
	    (tm.tm_mon = month_of(mon)) < 0 || d < 1 || d > 31 || y < 1970 || y > 9999 ||
	    H < 0 || H > 23 || M < 0 || M > 59 || S < 0 || S > 60) {
		return -1;
	}
	tm.tm_mday = d;
	tm.tm_year = y - 1900;
	tm.tm_hour = H;
	tm.tm_min = M;
	tm.tm_sec = S;
	*t = (long long)timegm(&tm);
	return 0;
}

static int parse_rfc3339(const char *s, long long *t)
{
	int y, mo, d, H, M, S, n = 0;
	struct tm tm = {0};

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &H, &M, &S, &n) != 6 || n == 0 ||
	    s[n] != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || H > 23 || H < 0 ||
	    M < 0 || M > 59 || S < 0 || S > 60) {
		return -1;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = H;
	tm.tm_min = M;
	tm.tm_sec = S;
	*t = (long long)timegm(&tm);
	return 0;
}

static int parse_layers(struct pctx *p, const xmlNode *n, struct feed_item *it)
{
	size_t count = 0;

	for (const xmlNode *c = n->children; c; c = c->next) {
		if (is_fvm(c, "layer")) {
			count++;
		}
	}
	if (count == 0 || count > FEED_MAX_LAYERS) {
		return fail(p, "version %" PRIu64 ": %zu layers (1 to %d wanted)", it->version, count,
			    FEED_MAX_LAYERS);
	}
	it->layers = calloc(count, sizeof(*it->layers));
	if (!it->layers) {
		return fail(p, "out of memory");
	}
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!is_fvm(c, "layer")) {
			continue;
		}
		struct feed_layer *l = &it->layers[it->nlayers++];
		xmlChar *d = xmlGetNoNsProp(c, X("digest"));
		bool ok = d && valid_digest((const char *)d);
		if (ok) {
			memcpy(l->digest, d, FEED_DIGEST_LEN + 1);
		}
		xmlFree(d);
		if (!ok) {
			return fail(p, "a layer's digest is not sha256: and 64 lowercase hex digits");
		}
		if (attr_num(p, c, "size", &l->size) < 0) {
			return -1;
		}
		for (const xmlNode *s = c->children; s; s = s->next) {
			if (is_fvm(s, "signature")) {
				if (l->signature) {
					return fail(p, "layer %s: two signatures", l->digest);
				}
				if (!(l->signature = text_of(p, s, MS_FILE_MAX))) {
					return -1;
				}
			}
		}
		struct ms_sig sig;
		const char *why;
		if (!l->signature) {
			return fail(p, "layer %s: no signature", l->digest);
		}
		if (ms_sig_parse(l->signature, strlen(l->signature), &sig, &why) < 0) {
			return fail(p, "layer %s: its signature: %s", l->digest, why);
		}
	}
	return 0;
}

static int parse_item(struct pctx *p, const xmlNode *n, struct feed_item *it)
{
	bool have_version = false, have_date = false, have_enc = false, have_changes = false;
	char *guid = NULL;
	int ret = -1;

	for (const xmlNode *c = n->children; c; c = c->next) {
		if (is_rss(c, "title") && !it->title) {
			if (!(it->title = text_of(p, c, 4096))) {
				goto out;
			}
		} else if (is_rss(c, "description") && !it->description) {
			if (!(it->description = text_of(p, c, 1 << 20))) {
				goto out;
			}
		} else if (is_rss(c, "guid") && !guid) {
			if (!(guid = text_of(p, c, 64))) {
				goto out;
			}
		} else if (is_rss(c, "pubDate") && !have_date) {
			char *s = text_of(p, c, 64);
			int bad = !s || parse_rfc822(s, &it->pubdate) < 0;
			free(s);
			if (bad) {
				fail(p, "<pubDate> is not an RFC 822 date in UTC");
				goto out;
			}
			have_date = true;
		} else if (is_rss(c, "enclosure") && !have_enc) {
			xmlChar *u = xmlGetNoNsProp(c, X("url")), *t = xmlGetNoNsProp(c, X("type"));
			bool ok = u && *u && strlen((const char *)u) < 8192 && t &&
				  strcmp((const char *)t, FEED_LAYER_TYPE) == 0;
			if (ok) {
				it->enclosure_url = strdup((const char *)u);
			}
			xmlFree(u);
			xmlFree(t);
			if (!ok || !it->enclosure_url) {
				fail(p, "<enclosure> without a url or with a type other than %s", FEED_LAYER_TYPE);
				goto out;
			}
			if (attr_num(p, c, "length", &it->enclosure_length) < 0) {
				goto out;
			}
			have_enc = true;
		} else if (is_fvm(c, "version") && !have_version) {
			if (text_u64(p, c, &it->version) < 0) {
				goto out;
			}
			if (it->version == 0) {
				fail(p, "<fvm:version> 0: versions count from 1");
				goto out;
			}
			have_version = true;
		} else if (is_fvm(c, "changes") && !have_changes) {
			if (attr_num(p, c, "added", &it->added) < 0 ||
			    attr_num(p, c, "modified", &it->modified) < 0 ||
			    attr_num(p, c, "deleted", &it->deleted) < 0 ||
			    attr_num(p, c, "bytes", &it->bytes) < 0) {
				goto out;
			}
			have_changes = true;
		} else if (is_fvm(c, "layers") && !it->layers) {
			if (!have_version) {
				fail(p, "<fvm:layers> before <fvm:version>");
				goto out;
			}
			if (parse_layers(p, c, it) < 0) {
				goto out;
			}
		} else if (c->type == XML_ELEMENT_NODE && c->ns && c->ns->href &&
			   strcmp((const char *)c->ns->href, FEED_NS) == 0) {
			fail(p, "unknown or repeated fvm element <fvm:%s> in an item", (const char *)c->name);
			goto out;
		}
	}
	if (!have_version || !it->layers || !have_enc || !have_date || !have_changes || !guid || !it->title) {
		fail(p, "an item lacks one of title, guid, pubDate, enclosure, fvm:version, "
			"fvm:changes, fvm:layers");
		goto out;
	}
	char want[32];
	snprintf(want, sizeof(want), "v%" PRIu64, it->version);
	if (strcmp(guid, want) != 0) {
		fail(p, "version %" PRIu64 ": its guid is not %s", it->version, want);
		goto out;
	}
	if (it->enclosure_length != it->layers[it->nlayers - 1].size) {
		fail(p, "version %" PRIu64 ": the enclosure's length is not its top layer's size", it->version);
		goto out;
	}
	if (!it->description && !(it->description = strdup(""))) {
		fail(p, "out of memory");
		goto out;
	}
	ret = 0;
out:
	free(guid);
	return ret;
}

/* <fvm:successor>: a public key and its signature, both checked for syntax. */
static int parse_successor(struct pctx *p, const xmlNode *n, struct feed *f)
{
	struct ms_pubkey pk;
	struct ms_sig sig;
	const char *why;

	for (const xmlNode *c = n->children; c; c = c->next) {
		if (is_fvm(c, "publicKey") && !f->successor_pub) {
			if (!(f->successor_pub = text_of(p, c, MS_FILE_MAX))) {
				return -1;
			}
		} else if (is_fvm(c, "signature") && !f->successor_sig) {
			if (!(f->successor_sig = text_of(p, c, MS_FILE_MAX))) {
				return -1;
			}
		} else if (c->type == XML_ELEMENT_NODE) {
			return fail(p, "unknown or repeated element <%s> in <fvm:successor>", (const char *)c->name);
		}
	}
	if (!f->successor_pub || !f->successor_sig) {
		return fail(p, "<fvm:successor> lacks its publicKey or its signature");
	}
	if (ms_pubkey_parse(f->successor_pub, strlen(f->successor_pub), &pk, &why) < 0) {
		return fail(p, "the successor key: %s", why);
	}
	if (ms_sig_parse(f->successor_sig, strlen(f->successor_sig), &sig, &why) < 0) {
		return fail(p, "the successor key's signature: %s", why);
	}
	return 0;
}

static int parse_channel(struct pctx *p, const xmlNode *ch, struct feed *f)
{
	bool have_seq = false, have_until = false;
	size_t count = 0;

	for (const xmlNode *c = ch->children; c; c = c->next) {
		if (is_rss(c, "item")) {
			count++;
		}
	}
	if (count > FEED_MAX_ITEMS) {
		return fail(p, "more than %d items", FEED_MAX_ITEMS);
	}
	if (count && !(f->items = calloc(count, sizeof(*f->items)))) {
		return fail(p, "out of memory");
	}
	for (const xmlNode *c = ch->children; c; c = c->next) {
		if (is_rss(c, "title") && !f->title) {
			if (!(f->title = text_of(p, c, 4096))) {
				return -1;
			}
		} else if (is_rss(c, "link") && !f->link) {
			if (!(f->link = text_of(p, c, 8192))) {
				return -1;
			}
		} else if (is_rss(c, "description") && !f->description) {
			if (!(f->description = text_of(p, c, 1 << 20))) {
				return -1;
			}
		} else if (is_rss(c, "lastBuildDate")) {
			char *s = text_of(p, c, 64);
			int bad = !s || parse_rfc822(s, &f->built) < 0;
			free(s);
			if (bad) {
				return fail(p, "<lastBuildDate> is not an RFC 822 date in UTC");
			}
		} else if (is_fvm(c, "sequence") && !have_seq) {
			if (text_u64(p, c, &f->sequence) < 0) {
				return -1;
			}
			have_seq = true;
		} else if (is_fvm(c, "validUntil") && !have_until) {
			char *s = text_of(p, c, 64);
			int bad = !s || parse_rfc3339(s, &f->valid_until) < 0;
			free(s);
			if (bad) {
				return fail(p, "<fvm:validUntil> is not YYYY-MM-DDTHH:MM:SSZ");
			}
			have_until = true;
		} else if (is_fvm(c, "successor") && !f->successor_pub) {
			if (parse_successor(p, c, f) < 0) {
				return -1;
			}
		} else if (is_rss(c, "item")) {
			struct feed_item *it = &f->items[f->nitems++];
			if (parse_item(p, c, it) < 0) {
				return -1;
			}
			if (f->nitems > 1 && it->version >= f->items[f->nitems - 2].version) {
				return fail(p, "version %" PRIu64 " after version %" PRIu64
					    ": items must be newest first, each version once",
					    it->version, f->items[f->nitems - 2].version);
			}
		} else if (c->type == XML_ELEMENT_NODE && c->ns && c->ns->href &&
			   strcmp((const char *)c->ns->href, FEED_NS) == 0) {
			return fail(p, "unknown or repeated fvm element <fvm:%s> in the channel",
				    (const char *)c->name);
		}
	}
	if (!have_seq || !have_until) {
		return fail(p, "the channel lacks <fvm:sequence> or <fvm:validUntil>");
	}
	if (!f->title || !f->link || !f->description) {
		return fail(p, "the channel lacks a title, link or description");
	}
	return 0;
}

int feed_parse(const char *text, size_t len, struct feed *f, char *why, size_t whylen)
{
	struct pctx p = {why, whylen};
	xmlDocPtr doc;
	xmlNodePtr root, ch = NULL;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	if (len > FEED_MAX_BYTES || len > (size_t)INT32_MAX) {
		return fail(&p, "larger than %zu bytes", FEED_MAX_BYTES);
	}
	doc = xmlReadMemory(text, (int)len, "feed.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();
		fail(&p, "not well-formed XML%s%s", e && e->message ? ": " : "",
		     e && e->message ? e->message : "");
		/* libxml2's message ends with a newline */
		size_t l = strlen(why);
		if (l && why[l - 1] == '\n') {
			why[l - 1] = '\0';
		}
		return -1;
	}
	if (doc->intSubset || doc->extSubset) {
		fail(&p, "a document type declaration (DTD) is refused in a feed");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is_rss(root, "rss")) {
		fail(&p, "the root element is not <rss>");
		goto out;
	}
	xmlChar *v = xmlGetNoNsProp(root, X("version"));
	bool v2 = v && strcmp((const char *)v, "2.0") == 0;
	xmlFree(v);
	if (!v2) {
		fail(&p, "not RSS 2.0 (<rss version=\"2.0\">)");
		goto out;
	}
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (is_rss(c, "channel")) {
			if (ch) {
				fail(&p, "two channels");
				goto out;
			}
			ch = c;
		}
	}
	if (!ch) {
		fail(&p, "no <channel>");
		goto out;
	}
	ret = parse_channel(&p, ch, f);
out:
	xmlFreeDoc(doc);
	if (ret < 0) {
		feed_free(f);
	}
	return ret;
}

void feed_free(struct feed *f)
{
	for (size_t i = 0; i < f->nitems; i++) {
		struct feed_item *it = &f->items[i];
		for (size_t j = 0; j < it->nlayers; j++) {
			free(it->layers[j].signature);
		}
		free(it->layers);
		free(it->title);
		free(it->description);
		free(it->enclosure_url);
	}
	free(f->items);
	free(f->successor_pub);
	free(f->successor_sig);
	free(f->title);
	free(f->link);
	free(f->description);
	memset(f, 0, sizeof(*f));
}
