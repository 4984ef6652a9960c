/*
 * fuzz_ocijson.c — the JSON of an imported OCI image layout (fvm import oci:DIR): the
 * input parsed as index.json (with and without a tag), as a manifest, and as a config
 * after a manifest's layers.
 *
 * Invariants: no crash, no sanitizer report, no leak, for any bytes. A digest accepted
 * is 64 lowercase hex digits (it becomes a file name under blobs/sha256/). A config
 * accepted has as many diff_ids as the manifest had layers.
 */
#include "fuzz.h"

#include "store/oci.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_init_messages();
	return 0;
}

static void check_hex(const char *h)
{
	FUZZ_CHECK(strlen(h) == 64);
	for (const char *p = h; *p; p++) {
		FUZZ_CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char d[OCI_DIGEST_HEX];
	uint64_t n;
	const char *why;
	struct oci_image img = {0};
	const char *text = (const char *)data;

	if (oci_index_parse(text, size, NULL, d, &n, &why) == 0) {
		check_hex(d);
	}
	if (oci_index_parse(text, size, "latest", d, &n, &why) == 0) {
		check_hex(d);
	}
	if (oci_manifest_parse(text, size, d, &n, &img, &why) == 0) {
		check_hex(d);
		for (size_t i = 0; i < img.nlayers; i++) {
			check_hex(img.layers[i].digest);
		}
		size_t want = img.nlayers;
		if (oci_config_parse(text, size, &img, &why) == 0) {
			FUZZ_CHECK(img.nlayers == want);
			for (size_t i = 0; i < img.nlayers; i++) {
				check_hex(img.layers[i].diff_id);
			}
		}
	}
	oci_image_free(&img);
	return 0;
}
