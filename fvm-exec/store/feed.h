/*
 * feed.h — a VMcast feed (DESIGN.md "Delivery (VMcasting)"): RSS 2.0 that any reader
 * understands, one item per published version, and fvm's own elements in the XML
 * namespace FEED_NS for what a subscriber verifies. Written and parsed with libxml2.
 *
 *   <rss version="2.0" xmlns:fvm="urn:fvm:vmcast:1"><channel>
 *     <title/> <link/> <description/> <lastBuildDate/> (RFC 822)
 *     <fvm:sequence>N</fvm:sequence>  <fvm:validUntil>YYYY-MM-DDTHH:MM:SSZ</fvm:validUntil>
 *     <fvm:successor> (optional: the key that will sign this feed next, key rotation)
 *       <fvm:publicKey>minisign public key file text</fvm:publicKey>
 *       <fvm:signature>minisig text of that public key text, by the current key</fvm:signature>
 *     </fvm:successor>
 *     <item> (newest first)
 *       <title/> <guid isPermaLink="false">vVERSION</guid> <pubDate/> <description/>
 *       <enclosure url="..." length="BYTES" type="application/vnd.oci.image.layer.v1.tar+gzip"/>
 *       <fvm:version>VERSION</fvm:version>
 *       <fvm:changes added="N" modified="N" deleted="N" bytes="N"/>
 *       <fvm:layers> (bottom first; the last is the version's top, the enclosure)
 *         <fvm:layer digest="sha256:HEX" size="BYTES"><fvm:signature>minisig text</fvm:signature></fvm:layer>
 *       </fvm:layers>
 *     </item>
 *   </channel></rss>
 *
 * Rules: the parser takes bytes from anyone (it is fuzzed): a document with a DTD is
 * refused (no entities, nothing fetched), every fvm element is checked (digests are
 * "sha256:" and 64 lowercase hex digits, numbers decimal without overflow, signatures
 * parse as minisign's, versions unique and decreasing, the enclosure the top layer),
 * elements outside RSS and fvm's are ignored, an error names what is wrong in *WHY.
 */
#ifndef FVM_STORE_FEED_H
#define FVM_STORE_FEED_H

#include <stddef.h>
#include <stdint.h>

#define FEED_NS "urn:fvm:vmcast:1"
#define FEED_LAYER_TYPE "application/vnd.oci.image.layer.v1.tar+gzip"
#define FEED_MAX_BYTES ((size_t)64 << 20)
#define FEED_MAX_ITEMS 100000
#define FEED_MAX_LAYERS 4096
#define FEED_DIGEST_LEN (7 + 64)   /* "sha256:" and the hex */

struct feed_layer {
	char digest[FEED_DIGEST_LEN + 1];
	uint64_t size;
	char *signature;  /* a minisign signature file's text, of the blob */
};

struct feed_item {
	uint64_t version;
	char *title, *description;
	long long pubdate;        /* seconds since the epoch */
	uint64_t added, modified, deleted, bytes;
	char *enclosure_url;
	uint64_t enclosure_length;
	size_t nlayers;
	struct feed_layer *layers;
};

struct feed {
	char *title, *link, *description;
	long long built;          /* lastBuildDate */
	uint64_t sequence;
	long long valid_until;
	char *successor_pub, *successor_sig;  /* both or neither */
	size_t nitems;
	struct feed_item *items;  /* newest first */
};

/* F as the feed's XML into *OUT (malloc'd, *LEN bytes). 0, or -1 with *WHY. */
int feed_write(const struct feed *f, char **out, size_t *len, const char **why);

/* The LEN bytes at TEXT as a feed into *F (feed_free it). 0, or -1 with WHY (LEN bytes). */
int feed_parse(const char *text, size_t len, struct feed *f, char *why, size_t whylen);

void feed_free(struct feed *f);

/* "Fri, 27 Nov 2026 15:57:16 +0000" (RFC 822, as RSS wants) into OUT. */
void feed_rfc822(long long t, char out[40]);

#endif
