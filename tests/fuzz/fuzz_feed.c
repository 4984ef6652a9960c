/*
 * fuzz_feed.c — a VMcast feed (store/feed.h), as a subscriber reads feed.xml from any
 * server: the input parsed; what parses written again and parsed again.
 *
 * Invariants: no crash, no sanitizer report, no leak, for any bytes. A feed accepted
 * has items newest first with distinct versions, each with at least one layer whose
 * digest is "sha256:" and 64 lowercase hex digits and whose signature is set, and an
 * enclosure as long as its top layer; writing it and parsing the result gives the same
 * channel and items.
 */
#include "fuzz.h"

#include "store/feed.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_init_messages();
	return 0;
}

static void check(const struct feed *f)
{
	for (size_t i = 0; i < f->nitems; i++) {
		const struct feed_item *it = &f->items[i];
		FUZZ_CHECK(it->version > 0 && (i == 0 || it->version < f->items[i - 1].version));
		FUZZ_CHECK(it->nlayers > 0 && it->layers);
		FUZZ_CHECK(it->enclosure_length == it->layers[it->nlayers - 1].size);
		for (size_t j = 0; j < it->nlayers; j++) {
			const char *d = it->layers[j].digest;
			FUZZ_CHECK(strlen(d) == FEED_DIGEST_LEN && strncmp(d, "sha256:", 7) == 0);
			for (const char *h = d + 7; *h; h++) {
				FUZZ_CHECK((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f'));
			}
			FUZZ_CHECK(it->layers[j].signature);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f, g;
	char why[256];
	const char *wwhy;
	char *out;
	size_t len;

	if (feed_parse((const char *)data, size, &f, why, sizeof(why)) < 0) {
		return 0;
	}
	check(&f);
	/* Text that is not UTF-8 cannot come out of libxml2's parser, so writing succeeds. */
	FUZZ_CHECK(feed_write(&f, &out, &len, &wwhy) == 0);
	if (feed_parse(out, len, &g, why, sizeof(why)) != 0) {
		fuzz_fail(__FILE__, __LINE__, "a feed written does not parse: %s", why);
	}
	FUZZ_CHECK(g.sequence == f.sequence && g.valid_until == f.valid_until && g.nitems == f.nitems);
	FUZZ_CHECK(strcmp(g.title, f.title) == 0 && strcmp(g.link, f.link) == 0);
	FUZZ_CHECK(!f.successor_pub == !f.successor_sig && !g.successor_pub == !f.successor_pub);
	FUZZ_CHECK(!f.successor_pub || (strcmp(g.successor_pub, f.successor_pub) == 0 &&
					strcmp(g.successor_sig, f.successor_sig) == 0));
	for (size_t i = 0; i < f.nitems; i++) {
		FUZZ_CHECK(g.items[i].version == f.items[i].version);
		FUZZ_CHECK(g.items[i].nlayers == f.items[i].nlayers);
		FUZZ_CHECK(strcmp(g.items[i].title, f.items[i].title) == 0);
		FUZZ_CHECK(strcmp(g.items[i].enclosure_url, f.items[i].enclosure_url) == 0);
		for (size_t j = 0; j < f.items[i].nlayers; j++) {
			FUZZ_CHECK(strcmp(g.items[i].layers[j].digest, f.items[i].layers[j].digest) == 0);
			FUZZ_CHECK(strcmp(g.items[i].layers[j].signature, f.items[i].layers[j].signature) == 0);
		}
	}
	feed_free(&g);
	free(out);
	feed_free(&f);
	check(&f);
	return 0;
}
