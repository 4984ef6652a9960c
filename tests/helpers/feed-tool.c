/*
 * feed-tool.c — drives the feed module (fvm-exec/store/feed.h) for tests/e2e/t_vmcast.sh
 * until fvm publish writes feeds itself.
 *
 *   feed-tool sample OUT SIGFILE    a three-version feed, each layer signed by SIGFILE's text
 *   feed-tool dump FEED             parse it; print channel and items, one fact a line
 *   feed-tool rewrite FEED OUT      parse it and write it again
 *
 * Exit 0, or 1 with "feed-tool: FEED: why" on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/feed.h"
#include "store/minisign.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f) {
		perror(path);
		exit(1);
	}
	do {
		if (n + 65536 > cap && !(buf = realloc(buf, cap = cap * 2 + 65536))) {
			exit(1);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

static void spit(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void parse(const char *path, struct feed *f)
{
	char why[512];
	size_t len;
	char *text = slurp(path, &len);

	if (feed_parse(text, len, f, why, sizeof(why)) < 0) {
		fprintf(stderr, "feed-tool: %s: %s\n", path, why);
		exit(1);
	}
	free(text);
}

static void emit(const struct feed *f, const char *out)
{
	const char *why;
	char *text;
	size_t len;

	if (feed_write(f, &text, &len, &why) < 0) {
		fprintf(stderr, "feed-tool: %s: %s\n", out, why);
		exit(1);
	}
	spit(out, text, len);
	free(text);
}

int main(int argc, char **argv)
{
	struct feed f = {0};

	if (argc == 4 && strcmp(argv[1], "sample") == 0) {
		size_t slen;
		char *sig = slurp(argv[3], &slen);
		static char digests[6][80];
		static struct feed_layer layers[6];
		static struct feed_item items[3];
		sig = realloc(sig, slen + 1);
		sig[slen] = '\0';
		for (int i = 0; i < 6; i++) {
			snprintf(digests[i], sizeof(digests[i]), "sha256:%064x", i + 1);
			memcpy(layers[i].digest, digests[i], FEED_DIGEST_LEN + 1);
			layers[i].size = 1000u * (unsigned)(i + 1);
			layers[i].signature = sig;
		}
		/* version 3 = layers 0,1,2; version 2 = 0,1; version 1 = 0 (newest first) */
		for (int v = 3; v >= 1; v--) {
			struct feed_item *it = &items[3 - v];
			static char titles[3][64], descs[3][128], urls[3][160];
			snprintf(titles[3 - v], 64, "demo v%d <&> \"quoted\"", v);
			snprintf(descs[3 - v], 128, "%d files added, %d modified, %d deleted (%d bytes)", v, v - 1, v == 3, 100 * v);
			snprintf(urls[3 - v], 160, "http://127.0.0.1:8000/blobs/%s", digests[v - 1]);
			it->version = (uint64_t)v;
			it->title = titles[3 - v];
			it->description = descs[3 - v];
			it->pubdate = 1795795200LL + v * 3600;
			it->added = (uint64_t)v;
			it->modified = (uint64_t)v - 1;
			it->deleted = v == 3;
			it->bytes = 100u * (unsigned)v;
			it->enclosure_url = urls[3 - v];
			it->enclosure_length = layers[v - 1].size;
			it->nlayers = (size_t)v;
			it->layers = layers;
		}
		f.title = "demo feed";
		f.link = "http://127.0.0.1:8000/";
		f.description = "fvm VM demo";
		f.built = 1795795200LL + 3 * 3600;
		f.sequence = 7;
		f.valid_until = 1795795200LL + 30 * 86400;
		f.nitems = 3;
		f.items = items;
		emit(&f, argv[2]);
		free(sig);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "dump") == 0) {
		parse(argv[2], &f);
		printf("title %s\nlink %s\nsequence %" PRIu64 "\nvalid_until %lld\nbuilt %lld\nitems %zu\n",
		       f.title, f.link, f.sequence, f.valid_until, f.built, f.nitems);
		if (f.successor_pub) {
			struct ms_pubkey pk;
			const char *why;
			char id[17];
			if (ms_pubkey_parse(f.successor_pub, strlen(f.successor_pub), &pk, &why) == 0) {
				ms_keyid(pk.keynum, id);
				printf("successor %s\n", id);
			}
		}
		for (size_t i = 0; i < f.nitems; i++) {
			const struct feed_item *it = &f.items[i];
			printf("item %" PRIu64 " title=%s pubdate=%lld changes=%" PRIu64 "/%" PRIu64 "/%" PRIu64
			       "/%" PRIu64 " enclosure=%s length=%" PRIu64 " layers=%zu\n",
			       it->version, it->title, it->pubdate, it->added, it->modified, it->deleted,
			       it->bytes, it->enclosure_url, it->enclosure_length, it->nlayers);
			for (size_t j = 0; j < it->nlayers; j++) {
				printf("  layer %s %" PRIu64 "\n", it->layers[j].digest, it->layers[j].size);
			}
		}
		feed_free(&f);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "rewrite") == 0) {
		parse(argv[2], &f);
		emit(&f, argv[3]);
		feed_free(&f);
		return 0;
	}
	fprintf(stderr, "usage: feed-tool sample OUT SIGFILE | dump FEED | rewrite FEED OUT\n");
	return 2;
}
