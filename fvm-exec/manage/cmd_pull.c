/*
 * cmd_pull.c — the subscriber's side of VMcasting (issue 18; DESIGN.md "Delivery
 * (VMcasting)", docs/VMCAST.md):
 *
 *   fvm subscribe VM URL --pub KEY.pub [--pub KEY2.pub ...]   record a subscription
 *   fvm subscribe VM                                          show it
 *   fvm pull VM | --all                                       follow it (or each)
 *
 * Rules:
 * - The subscription lives in the VM's control area (vmcast_sub.h), never in its data
 *   area: nothing inside the VM can change what it trusts. A VM that does not exist is
 *   made empty by subscribe.
 * - pull fetches URL (feed.xml) with libcurl, conditionally (ETag, If-Modified-Since)
 *   when a feed was accepted before (304: the feed and signature accepted then, checked
 *   again: one request), then URL.minisig, and accepts the feed only when:
 *   its signature is by a trusted key and its trusted comment names its sequence; its
 *   sequence is not below the last accepted (rollback); the same sequence comes with the
 *   same bytes (a second feed under one number is refused); its valid-until is ahead
 *   (freeze). A successor key the feed announces, signed by a trusted key, becomes
 *   trusted once the pull succeeds (key rotation; one signed by a key not trusted here is not followed, one whose
 *   signature fails refuses the feed); several keys may be trusted.
 * - The newest item is the version followed. A layer whose blob the VM already has
 *   (recorded in state) is reused; any other blob is downloaded into vmcast/blobs/
 *   (a partial one resumed with a Range request), its size, sha256 and minisign
 *   signature (by a trusted key, its trusted comment naming digest and size) checked,
 *   then applied (oci_tar_apply: every entry checked as fvm import checks it) into a
 *   new read-only layer; a layer of the same diff_id already in the store is shared
 *   instead.
 * - The version's new layers are made in the store (no VM names them), then the switch
 *   is recorded and tried under the switch lock (store/layers.h, layer_switch.c): the
 *   VM switches in one step (its list renamed) at once when it is idle, else when its
 *   last process ends or the next fvm or fvm-exec finds it idle. A pull never changes a
 *   running VM under its processes, and is not refused for it (exit 0). The VM's upper/
 *   stays on top, and layers it made itself above the subscribed ones (snapshots) stay
 *   above them. Until the switch is recorded nothing of the VM or of the subscription's
 *   state has changed: any refusal leaves the VM at its version. The state records the
 *   version switched to (or waiting), the feed accepted, and the trusted keys.
 * - Exit statuses (fvm/exit.h): 4 the feed or a blob cannot be fetched (server down,
 *   HTTP error, a cut transfer: the partial blob stays for a resume), 1 any refusal
 *   (signature, key, rollback, same sequence, freeze, digest, unsafe layer entries), 2 usage,
 *   3 a damaged subscription state.
 * - One pull of a VM at a time (flock on its vmcast/ directory; another is refused).
 * - A progress bar on stderr only when it is a terminal.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "json.h"
#include "fvm/layout.h"
#include "store/feed.h"
#include "store/layers.h"
#include "store/minisign.h"
#include "store/oci.h"
#include "store/procs.h"
#include "store/quote.h"
#include "store/replace.h"
#include "store/safefs.h"
#include "vmcast_sub.h"

#define SUB_DIR "vmcast"
#define MAX_KEYS 16
#define URL_MAX 4096

struct sub_state {
	char url[URL_MAX];
	uint64_t sequence, version;
	char feed[OCI_DIGEST_HEX];       /* sha256 of the last feed accepted, "" none */
	long long pulled;
	char etag[256], modified[128];
	size_t nlayers;                  /* the version's, bottom first */
	char blob[FVM_MAX_LAYERS][OCI_DIGEST_HEX];
	char id[FVM_MAX_LAYERS][FVM_LAYER_ID_MAX + 1];
};

struct trusted {
	size_t n;
	struct ms_pubkey pk[MAX_KEYS];
	char id[MAX_KEYS][17];
};

/* ---- the subscription's files ---- */

/* ctl/NAME/vmcast, made when MAKE. fd or -1 (reported unless missing and !MAKE). */
static int sub_open(const char *vmdir, bool make)
{
	int cfd = store_ctl_open(vmdir), fd;

	if (cfd < 0) {
		return -1;
	}
	if (make && mkdirat(cfd, SUB_DIR, 0700) < 0 && errno != EEXIST) {
		warn("%s", SUB_DIR);
		close(cfd);
		return -1;
	}
	fd = openat(cfd, SUB_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (make || errno != ENOENT)) {
		warn("%s", SUB_DIR);
	}
	if (fd >= 0 && make) {
		for (const char *d = "keys"; d; d = strcmp(d, "keys") == 0 ? "blobs" : NULL) {
			if (mkdirat(fd, d, 0700) < 0 && errno != EEXIST) {
				warn("%s/%s", SUB_DIR, d);
				close(fd);
				fd = -1;
				break;
			}
		}
	}
	close(cfd);
	return fd;
}

/* The state file of SFD into *ST. 0, 1 when there is none, -1 damaged (reported). */
static int state_read(int sfd, struct sub_state *st)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len;
	int r = safe_read_file(sfd, "state", 1 << 20, &buf, &len);

	memset(st, 0, sizeof(*st));
	if (r == -ENOENT) {
		return 1;
	}
	if (r < 0) {
		warnx("%s/state: %s", SUB_DIR, safe_strerror(r));
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ' ');
		if (!v) {
			continue;
		}
		*v++ = '\0';
		if (strcmp(line, "url") == 0) {
			snprintf(st->url, sizeof(st->url), "%s", v);
		} else if (strcmp(line, "sequence") == 0) {
			st->sequence = strtoull(v, NULL, 10);
		} else if (strcmp(line, "version") == 0) {
			st->version = strtoull(v, NULL, 10);
		} else if (strcmp(line, "feed") == 0) {
			snprintf(st->feed, sizeof(st->feed), "%s", v);
		} else if (strcmp(line, "pulled") == 0) {
			st->pulled = strtoll(v, NULL, 10);
		} else if (strcmp(line, "etag") == 0) {
			snprintf(st->etag, sizeof(st->etag), "%s", v);
		} else if (strcmp(line, "modified") == 0) {
			snprintf(st->modified, sizeof(st->modified), "%s", v);
		} else if (strcmp(line, "layer") == 0 && st->nlayers < FVM_MAX_LAYERS) {
			char *id = strchr(v, ' ');
			if (!id || (size_t)(id - v) != 64 || !layer_id_valid(id + 1)) {
				warnx("%s/state: a damaged layer line", SUB_DIR);
				free(buf);
				return -1;
			}
			memcpy(st->blob[st->nlayers], v, 64);
			st->blob[st->nlayers][64] = '\0';
			snprintf(st->id[st->nlayers], sizeof(st->id[0]), "%s", id + 1);
			st->nlayers++;
		}
	}
	free(buf);
	if (!st->url[0]) {
		warnx("%s/state: no url", SUB_DIR);
		return -1;
	}
	return 0;
}

static int state_write(int sfd, const struct sub_state *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f) {
		warn("%s/state", SUB_DIR);
		return -1;
	}
	fprintf(f, "url %s\nsequence %" PRIu64 "\nversion %" PRIu64 "\nfeed %s\npulled %lld\n",
		st->url, st->sequence, st->version, st->feed, st->pulled);
	if (st->etag[0]) {
		fprintf(f, "etag %s\n", st->etag);
	}
	if (st->modified[0]) {
		fprintf(f, "modified %s\n", st->modified);
	}
	for (size_t i = 0; i < st->nlayers; i++) {
		fprintf(f, "layer %s %s\n", st->blob[i], st->id[i]);
	}
	fclose(f);
	r = replace_write(sfd, "state", text, len, 0600);
	free(text);
	if (r < 0) {
		warnx("%s/state: %s", SUB_DIR, strerror(-r));
		return -1;
	}
	return 0;
}

/* The keys of SFD's keys/ into *T. 0 or -1 (reported). */
static int keys_read(int sfd, struct trusted *t)
{
	int kfd = openat(sfd, "keys", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = kfd < 0 ? NULL : fdopendir(kfd);
	struct dirent *e;

	t->n = 0;
	if (!d) {
		warn("%s/keys", SUB_DIR);
		if (kfd >= 0) {
			close(kfd);
		}
		return -1;
	}
	while ((e = readdir(d)) && t->n < MAX_KEYS) {
		char *buf = NULL;
		size_t len;
		const char *why;
		if (!strstr(e->d_name, ".pub") || e->d_name[0] == '.') {
			continue;
		}
		if (safe_read_file(dirfd(d), e->d_name, MS_FILE_MAX, &buf, &len) < 0 ||
		    ms_pubkey_parse(buf, len, &t->pk[t->n], &why) < 0) {
			warnx("%s/keys/%s: not a public key", SUB_DIR, e->d_name);
			free(buf);
			closedir(d);
			return -1;
		}
		free(buf);
		ms_keyid(t->pk[t->n].keynum, t->id[t->n]);
		t->n++;
	}
	closedir(d);
	return 0;
}

/* TEXT (a public key file's, LEN bytes) trusted: keys/ID.pub. 0, or -1 (reported). */
static int key_add(int sfd, const char *text, size_t len, char id[17])
{
	struct ms_pubkey pk;
	const char *why;
	char name[32];
	int kfd, r;

	if (ms_pubkey_parse(text, len, &pk, &why) < 0) {
		warnx("not a public key: %s", why);
		return -1;
	}
	ms_keyid(pk.keynum, id);
	snprintf(name, sizeof(name), "%s.pub", id);
	if ((kfd = openat(sfd, "keys", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		warn("%s/keys", SUB_DIR);
		return -1;
	}
	r = replace_write(kfd, name, text, len, 0600);
	close(kfd);
	if (r < 0) {
		warnx("%s/keys/%s: %s", SUB_DIR, name, strerror(-r));
		return -1;
	}
	return 0;
}

/* The trusted key of T that signed SIG, or NULL. */
static const struct ms_pubkey *key_for(const struct trusted *t, const struct ms_sig *sig)
{
	for (size_t i = 0; i < t->n; i++) {
		if (memcmp(t->pk[i].keynum, sig->keynum, MS_KEYNUM) == 0) {
			return &t->pk[i];
		}
	}
	return NULL;
}

static void keys_list(const struct trusted *t, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		size_t l = strlen(out);
		snprintf(out + l, len - l, "%s%s", i ? ", " : "", t->id[i]);
	}
}

void vmcast_info_print(const char *vmdir, FILE *out, bool json)
{
	struct sub_state st;
	struct trusted t;
	struct layer_switch sw;
	char keys[MAX_KEYS * 20], when[64], *c = NULL, *save = NULL;
	size_t clen = 0, n = 0;
	int sfd = sub_open(vmdir, false);

	if (sfd < 0) {
		return;
	}
	if (state_read(sfd, &st) != 0) {
		close(sfd);
		return;
	}
	bool waits = layer_switch_read(vmdir, &sw) > 0;
	if (keys_read(sfd, &t) < 0) {
		t.n = 0;
	}
	keys_list(&t, keys, sizeof(keys));
	cli_time(st.pulled, when, sizeof(when));
	if (safe_read_file(sfd, "conflicts", 1 << 24, &c, &clen) == 0) {
		for (size_t i = 0; i < clen; i++) {
			n += c[i] == '\n';
		}
	}
	if (json) {
		fputs("\"vmcast\":{\"url\":", out);
		json_string(out, st.url);
		fprintf(out, ",\"version\":%" PRIu64 ",\"sequence\":%" PRIu64 ",\"layers\":%zu,"
			"\"switch_waits\":%s,\"last_pull\":\"%s\",\"trusted\":[", st.version, st.sequence,
			st.nlayers, waits ? "true" : "false", when);
		for (size_t i = 0; i < t.n; i++) {
			fprintf(out, "%s\"%s\"", i ? "," : "", t.id[i]);
		}
		fputs("],\"conflicts\":[", out);
		n = 0;
		for (char *line = c ? strtok_r(c, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
			fputs(n++ ? "," : "", out);
			json_string(out, line);
		}
		fputs("]},", out);
	} else {
		fprintf(out, "vmcast:     %s\n", st.url);
		if (st.sequence) {
			fprintf(out, "  version   %" PRIu64 " (feed sequence %" PRIu64 ", %zu layer%s)%s\n",
				st.version, st.sequence, st.nlayers, st.nlayers == 1 ? "" : "s",
				waits ? ": the VM switches to it when its last process ends" : "");
		} else {
			fprintf(out, "  version   none pulled yet\n");
		}
		fprintf(out, "  trusted   %s\n", keys);
		fprintf(out, "  last pull %s\n", when);
		if (n) {
			fprintf(out, "  conflicts %zu (files the last version changed that the VM changed too; its own stay on top):\n", n);
			for (char *line = strtok_r(c, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
				fputs("    ", out);
				fvm_quote_fputs(line, out);
				fputc('\n', out);
			}
		}
	}
	free(c);
	close(sfd);
}

/* ---- fetching (libcurl) ---- */

struct fetch {
	const char *url;
	FILE *to;               /* the body goes here */
	uint64_t from;          /* resume at this offset (Range), 0: whole */
	uint64_t max;           /* refuse a body longer than this (0: no limit) */
	const char *etag, *modified; /* conditional request, or NULL */
	bool progress;
	const char *shown;
	/* out */
	long status;
	char new_etag[256], new_modified[128];
	bool too_long;
	uint64_t got;
	char error[CURL_ERROR_SIZE];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;

	if (f->max && f->from + f->got + len > f->max) {
		f->too_long = true;
		return 0;
	}
	f->got += len;
	return fwrite(p, 1, len, f->to);
}

static void header_value(const char *p, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	if (len <= nl || strncasecmp(p, name, nl) != 0) {
		return;
	}
	p += nl;
	len -= nl;
	while (len && (*p == ' ' || *p == '\t')) {
		p++, len--;
	}
	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' ')) {
		len--;
	}
	if (len < outlen) {
		memcpy(out, p, len);
		out[len] = '\0';
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;

	header_value(p, len, "ETag:", f->new_etag, sizeof(f->new_etag));
	header_value(p, len, "Last-Modified:", f->new_modified, sizeof(f->new_modified));
	return len;
}

static int on_progress(void *arg, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
	struct fetch *f = arg;

	(void)ut, (void)un;
	if (total > 0) {
		uint64_t all = f->from + (uint64_t)total, done = f->from + (uint64_t)now;
		int w = 30, bar = (int)(done * (uint64_t)w / (all ? all : 1));
		fprintf(stderr, "\r%.24s [%.*s%*s] %3d%% %" PRIu64 "/%" PRIu64, f->shown, bar,
			"##############################", w - bar, "", (int)(done * 100 / (all ? all : 1)),
			done, all);
	}
	return 0;
}

/* Fetches F->url into F->to. 0 done (F->status 200/206/304 or 0 for file://), -1 (reported). */
static int fetch(struct fetch *f)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char line[512];
	CURLcode r;

	if (!c) {
		warnx("libcurl cannot start");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, f->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "fvm/" FVM_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->error);
	if (f->from) {
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)f->from);
	}
	if (f->etag && f->etag[0]) {
		snprintf(line, sizeof(line), "If-None-Match: %s", f->etag);
		h = curl_slist_append(h, line);
	}
	if (f->modified && f->modified[0]) {
		snprintf(line, sizeof(line), "If-Modified-Since: %s", f->modified);
		h = curl_slist_append(h, line);
	}
	if (h) {
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	if (f->progress) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
	}
	f->error[0] = '\0';
	r = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
	if (f->progress) {
		fputc('\n', stderr);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (fflush(f->to) != 0) {
		warn("%s", f->shown);
		return -1;
	}
	if (f->too_long) {
		warnx("%s: longer than the feed says (%" PRIu64 " bytes): refused", f->url, f->max);
		return -2;
	}
	if (r != CURLE_OK) {
		warnx("%s: %s", f->url, f->error[0] ? f->error : curl_easy_strerror(r));
		return r == CURLE_RANGE_ERROR ? -3 : -1;
	}
	return 0;
}

/* ---- pulling ---- */

enum { PULL_REMOTE = -4, PULL_REFUSED = -1, PULL_STORE = -3 };

/* The directory part of the feed URL (through its last '/') into OUT. */
static void url_base(const char *url, char *out, size_t len)
{
	const char *slash = strrchr(url, '/');
	size_t n = slash ? (size_t)(slash - url) + 1 : 0;

	snprintf(out, len, "%.*s", (int)n, url);
}

static void sha256_hex(const void *p, size_t len, char out[OCI_DIGEST_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, p, len);
	for (size_t i = 0; i < sizeof(h); i++) {
		sprintf(out + 2 * i, "%02x", h[i]);
	}
}

/* A whole small resource into a malloc'd buffer. 0, 1 for 304 Not Modified, or PULL_*. */
static int fetch_mem(const char *url, const char *etag, const char *modified, char **out,
		     size_t *len, struct fetch *f)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *m = open_memstream(&buf, &blen);

	if (!m) {
		warn("%s", url);
		return PULL_REFUSED;
	}
	memset(f, 0, sizeof(*f));
	f->url = url;
	f->to = m;
	f->max = FEED_MAX_BYTES;
	f->etag = etag;
	f->modified = modified;
	f->shown = url;
	int r = fetch(f);
	fclose(m);
	if (r < 0) {
		free(buf);
		return r == -2 ? PULL_REFUSED : PULL_REMOTE;
	}
	if (f->status == 304) {
		free(buf);
		return 1;
	}
	*out = buf;
	*len = blen;
	return 0;
}

/* The blob HEX (SIZE bytes) into SFD's blobs/HEX, resumed from HEX.part. Opened fd, or PULL_*. */
static int fetch_blob(int sfd, const char *base, const char *hex, uint64_t size)
{
	char part[80], url[URL_MAX + 100], shown[32];
	struct stat st;
	int bfd = openat(sfd, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd = -1, r;

	if (bfd < 0) {
		warn("%s/blobs", SUB_DIR);
		return PULL_REFUSED;
	}
	snprintf(part, sizeof(part), "%s.part", hex);
	snprintf(url, sizeof(url), "%sblobs/sha256/%s", base, hex);
	snprintf(shown, sizeof(shown), "blob %.12s", hex);
	/* A whole one from a pull refused later (a running VM) is used again. */
	if ((fd = safe_open_control(bfd, hex, O_RDONLY, 0)) >= 0) {
		close(bfd);
		return fd;
	}
	fd = safe_open_control(bfd, part, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || fstat(fd, &st) < 0) {
		warnx("%s/blobs/%s: %s", SUB_DIR, part, safe_strerror(fd < 0 ? fd : -errno));
		close(bfd);
		return PULL_REFUSED;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		struct fetch f = {.url = url, .max = size, .shown = shown, .progress = isatty(2)};
		uint64_t have = (uint64_t)st.st_size;
		if (have > size || attempt) {
			have = 0;
		}
		if (ftruncate(fd, (off_t)have) < 0 || lseek(fd, (off_t)have, SEEK_SET) < 0 ||
		    !(f.to = fdopen(dup(fd), "w"))) {
			warn("%s/blobs/%s", SUB_DIR, part);
			r = PULL_REFUSED;
			break;
		}
		f.from = have;
		if (have) {
			fprintf(stderr, "fvm pull: %s: resuming at byte %" PRIu64 "\n", shown, have);
		}
		r = fetch(&f);
		fclose(f.to);
		if (r == -3 && have) {
			fprintf(stderr, "fvm pull: %s: the server cannot resume; downloading it whole\n", shown);
			continue; /* no Range support: from the start */
		}
		r = r == -2 ? PULL_REFUSED : r < 0 ? PULL_REMOTE : 0;
		break;
	}
	if (r == 0 && (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size)) {
		warnx("%s: %" PRIu64 " bytes received, the feed says %" PRIu64 ": truncated", url,
		      (uint64_t)st.st_size, size);
		r = PULL_REMOTE;
	}
	if (r == 0 && (fsync(fd) < 0 || renameat(bfd, part, bfd, hex) < 0)) {
		warn("%s/blobs/%s", SUB_DIR, hex);
		r = PULL_REFUSED;
	}
	close(bfd);
	if (r < 0) {
		close(fd);
		return r;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Checks the blob at FD: sha256 HEX and L's signature by a trusted key. 0 or PULL_REFUSED. */
static int check_blob(int fd, const char *url, const struct feed_layer *l, const struct trusted *t)
{
	char got[OCI_DIGEST_HEX], want[200];
	uint64_t size;
	struct ms_sig sig;
	const char *why;
	const struct ms_pubkey *pk;

	lseek(fd, 0, SEEK_SET);
	if (oci_sha256_fd(fd, got, &size) < 0 || strcmp(got, l->digest + 7) != 0 || size != l->size) {
		warnx("%s: its sha256 is %s (%" PRIu64 " bytes), the feed says %s (%" PRIu64
		      " bytes): tampered or damaged, refused", url, got, size, l->digest + 7, l->size);
		return PULL_REFUSED;
	}
	if (ms_sig_parse(l->signature, strlen(l->signature), &sig, &why) < 0) {
		warnx("%s: its signature in the feed: %s", url, why);
		return PULL_REFUSED;
	}
	if (!(pk = key_for(t, &sig))) {
		char id[17];
		ms_keyid(sig.keynum, id);
		warnx("%s: signed by key %s, which this subscription does not trust: refused", url, id);
		return PULL_REFUSED;
	}
	lseek(fd, 0, SEEK_SET);
	snprintf(want, sizeof(want), "fvm layer %s size %" PRIu64, l->digest, l->size);
	int r = ms_verify(pk, &sig, NULL, 0, fd, false);
	if (r != MS_OK || strcmp(sig.trusted, want) != 0) {
		warnx("%s: %s: refused", url, r == MS_ERR_DATA ? "its signature does not match it"
				      : r == MS_ERR_COMMENT ? "its signature's trusted comment was changed"
				      : r != MS_OK ? "its signature cannot be checked"
						   : "its signature is for another blob");
		return PULL_REFUSED;
	}
	return 0;
}

/* The store's free space less a margin: the most a layer may expand to. */
static uint64_t space_left(const char *home)
{
	struct statvfs v;

	if (statvfs(home, &v) < 0) {
		return ~0ULL;
	}
	uint64_t free = (uint64_t)v.f_bavail * v.f_frsize;
	return free - free / 10;
}

/* The blob at FD applied into a new layer of HOME, or the store's layer of its diff_id. */
static int make_layer(const char *home, int fd, const char *shown, const struct feed_layer *l,
		      const char *label, char id[FVM_LAYER_ID_MAX + 1], bool *made)
{
	struct oci_apply_opts o = {.chown = geteuid() == 0, .max_size = space_left(home),
				   .total = l->size};
	struct oci_digest_check want = {l->digest + 7, NULL, l->size};
	struct oci_blob_info info;
	char tree[PATH_MAX], digest[8 + OCI_DIGEST_HEX], other[FVM_LAYER_ID_MAX + 1];
	struct stat rst;
	int tfd, r;

	*made = false;
	if (layer_create(home, label, id) < 0) {
		return -1;
	}
	if (layer_tree_path(home, id, tree, sizeof(tree)) < 0 || mkdir(tree, 0700) < 0 ||
	    (stat("/", &rst) == 0 && chmod(tree, rst.st_mode & 07777) < 0) ||
	    (tfd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		warn("%s", tree);
		layer_remove(home, id);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	r = oci_tar_apply(fd, shown, tfd, &o, &want, &info);
	close(tfd);
	if (r < 0) {
		layer_remove(home, id);
		return -1;
	}
	snprintf(digest, sizeof(digest), "sha256:%s", info.diff_id);
	if (layer_find_digest(home, digest, other)) {
		layer_remove(home, id); /* the store has it: shared */
		memcpy(id, other, sizeof(other));
		return 0;
	}
	if (layer_set_digest(home, id, digest) < 0) {
		layer_remove(home, id);
		return -1;
	}
	*made = true;
	return 0;
}

static bool layer_exists(const char *home, const char *id)
{
	char tree[PATH_MAX];
	struct stat st;

	return layer_tree_path(home, id, tree, sizeof(tree)) == 0 && lstat(tree, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* How many files the conflicts file of SFD names. */
static size_t conflicts_count(int sfd)
{
	char *c = NULL;
	size_t len = 0, n = 0;

	if (safe_read_file(sfd, "conflicts", 1 << 24, &c, &len) == 0) {
		for (size_t i = 0; i < len; i++) {
			n += c[i] == '\n';
		}
	}
	free(c);
	return n;
}

/* Removes blobs/HEX of the versions layers L (their layers exist now). */
static void blobs_drop(int sfd, const struct feed_item *it)
{
	int bfd = openat(sfd, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (bfd < 0) {
		return;
	}
	for (size_t i = 0; i < it->nlayers; i++) {
		unlinkat(bfd, it->layers[i].digest + 7, 0);
	}
	close(bfd);
}

static int pull(const char *name, const char *vmdir)
{
	struct sub_state st, nst;
	struct trusted t;
	struct feed f = {0};
	struct fetch fx;
	struct ms_sig sig;
	char *text = NULL, *sigtext = NULL, why[512], base[URL_MAX], sigurl[URL_MAX + 16];
	char hex[OCI_DIGEST_HEX], home[PATH_MAX], keys[MAX_KEYS * 20];
	const char *w;
	size_t len = 0, siglen = 0;
	bool cached = false, lay_made[FVM_MAX_LAYERS] = {0};
	int sfd, r, rc = PULL_REFUSED, swlock = -1;

	if ((sfd = sub_open(vmdir, false)) < 0) {
		if (errno == ENOENT) {
			warnx("%s: not subscribed (fvm subscribe %s URL --pub KEY.pub)", name, name);
		}
		return PULL_REFUSED;
	}
	if (flock(sfd, LOCK_EX | LOCK_NB) < 0) {
		warnx("%s: another pull of this VM is under way: refused", name);
		close(sfd);
		return PULL_REFUSED;
	}
	if ((r = state_read(sfd, &st)) != 0 || keys_read(sfd, &t) < 0) {
		close(sfd);
		return r == 1 ? (warnx("%s: not subscribed", name), PULL_REFUSED) : PULL_STORE;
	}
	if (layer_home(vmdir, home, sizeof(home)) < 0) {
		goto out;
	}
	url_base(st.url, base, sizeof(base));
	/* The feed: conditionally when one was accepted before and is still here. */
	struct stat cst;
	bool have_cache = fstatat(sfd, "feed.xml", &cst, AT_SYMLINK_NOFOLLOW) == 0 &&
			  fstatat(sfd, "feed.xml.minisig", &cst, AT_SYMLINK_NOFOLLOW) == 0 && st.feed[0];
	r = fetch_mem(st.url, have_cache ? st.etag : NULL, have_cache ? st.modified : NULL, &text,
		      &len, &fx);
	if (r < 0) {
		rc = r;
		goto out;
	}
	if (r == 1) {
		if ((r = safe_read_file(sfd, "feed.xml", FEED_MAX_BYTES, &text, &len)) < 0) {
			warnx("%s/feed.xml: %s", SUB_DIR, safe_strerror(r));
			rc = PULL_STORE;
			goto out;
		}
		cached = true;
	}
	char etag[256], modified[128];
	snprintf(etag, sizeof(etag), "%s", cached ? st.etag : fx.new_etag);
	snprintf(modified, sizeof(modified), "%s", cached ? st.modified : fx.new_modified);
	snprintf(sigurl, sizeof(sigurl), "%s.minisig", st.url);
	if (cached) {
		/* Not modified: its signature as accepted with it (checked again below). */
		if ((r = safe_read_file(sfd, "feed.xml.minisig", MS_FILE_MAX, &sigtext, &siglen)) < 0) {
			warnx("%s/feed.xml.minisig: %s", SUB_DIR, safe_strerror(r));
			rc = PULL_STORE;
			goto out;
		}
	} else if ((r = fetch_mem(sigurl, NULL, NULL, &sigtext, &siglen, &fx)) != 0) {
		rc = r == 1 ? PULL_REMOTE : r;
		goto out;
	}
	/* Its signature, by a trusted key, naming its sequence. */
	if (ms_sig_parse(sigtext, siglen, &sig, &w) < 0) {
		warnx("%s: %s: refused", sigurl, w);
		goto out;
	}
	const struct ms_pubkey *pk = key_for(&t, &sig);
	if (!pk) {
		char id[17];
		ms_keyid(sig.keynum, id);
		keys_list(&t, keys, sizeof(keys));
		warnx("%s: signed by key %s, which this subscription does not trust (trusted: %s): "
		      "refused", st.url, id, keys);
		goto out;
	}
	r = ms_verify(pk, &sig, text, len, -1, false);
	if (r != MS_OK) {
		warnx("%s: %s: refused", st.url, r == MS_ERR_COMMENT ? "the trusted comment of its signature was changed"
						  : "its signature does not match it (tampered)");
		goto out;
	}
	if (feed_parse(text, len, &f, why, sizeof(why)) < 0) {
		warnx("%s: %s: refused", st.url, why);
		goto out;
	}
	char want[64];
	snprintf(want, sizeof(want), "fvm feed sequence %" PRIu64, f.sequence);
	if (strcmp(sig.trusted, want) != 0) {
		warnx("%s: its signature is for another sequence (\"%s\", the feed says %" PRIu64 "): refused",
		      st.url, sig.trusted, f.sequence);
		goto out;
	}
	sha256_hex(text, len, hex);
	if (f.sequence < st.sequence) {
		warnx("%s: sequence %" PRIu64 " is older than %" PRIu64 ", the last accepted: a rollback, refused",
		      st.url, f.sequence, st.sequence);
		goto out;
	}
	if (f.sequence == st.sequence && strcmp(hex, st.feed) != 0) {
		warnx("%s: sequence %" PRIu64 " again with other content: refused (the publisher must "
		      "raise the sequence)", st.url, f.sequence);
		goto out;
	}
	long long now = (long long)time(NULL);
	if (f.valid_until < now) {
		char until[64];
		cli_time(f.valid_until, until, sizeof(until));
		warnx("%s: expired at %s (valid-until): a frozen feed, refused until the publisher "
		      "refreshes it", st.url, until);
		goto out;
	}
	/* A successor key, signed by the key that signed the feed. */
	bool succ = false;
	struct ms_sig ssig;
	if (f.successor_pub) {
		struct ms_pubkey npk;
		char nid[17], swant[64];
		if (ms_sig_parse(f.successor_sig, strlen(f.successor_sig), &ssig, &w) < 0 ||
		    ms_pubkey_parse(f.successor_pub, strlen(f.successor_pub), &npk, &w) < 0) {
			warnx("%s: its successor key: %s: refused", st.url, w);
			goto out;
		}
		ms_keyid(npk.keynum, nid);
		snprintf(swant, sizeof(swant), "fvm successor key %s", nid);
		const struct ms_pubkey *spk = key_for(&t, &ssig);
		bool known = false;
		for (size_t i = 0; i < t.n; i++) {
			known = known || memcmp(t.pk[i].keynum, npk.keynum, MS_KEYNUM) == 0;
		}
		if (spk && (ms_verify(spk, &ssig, f.successor_pub, strlen(f.successor_pub), -1, false) != MS_OK ||
			    strcmp(ssig.trusted, swant) != 0)) {
			warnx("%s: its successor key %s does not match its signature (tampered): refused",
			      st.url, nid);
			goto out;
		}
		if (!spk && !known) {
			char sid[17];
			ms_keyid(ssig.keynum, sid);
			fprintf(stderr, "fvm pull: %s: its successor key %s is signed by key %s, which this "
				"subscription does not trust: not followed\n", st.url, nid, sid);
		}
		succ = spk && !known;
	}
	if (f.nitems == 0) {
		warnx("%s: no version published yet", st.url);
		goto out;
	}
	const struct feed_item *it = &f.items[0];
	if (it->nlayers > FVM_MAX_LAYERS) {
		warnx("%s: version %" PRIu64 " has %zu layers, more than a VM's %d: refused", st.url,
		      it->version, it->nlayers, FVM_MAX_LAYERS);
		goto out;
	}
	if (it->version < st.version) {
		warnx("%s: its newest version %" PRIu64 " is older than %" PRIu64 ", the VM's: refused",
		      st.url, it->version, st.version);
		goto out;
	}
	/* The version's layers: reused, or downloaded, checked and made. Bottom first. */
	nst = st;
	snprintf(nst.etag, sizeof(nst.etag), "%s", etag);
	snprintf(nst.modified, sizeof(nst.modified), "%s", modified);
	nst.nlayers = it->nlayers;
	size_t fetched = 0, shared = 0;
	int bfds[FVM_MAX_LAYERS];
	for (size_t i = 0; i < it->nlayers; i++) {
		bfds[i] = -1;
	}
	/* Downloads first (no lock held: a VM may run meanwhile), then checks. */
	for (size_t i = 0; i < it->nlayers; i++) {
		const struct feed_layer *l = &it->layers[i];
		snprintf(nst.blob[i], sizeof(nst.blob[i]), "%s", l->digest + 7);
		nst.id[i][0] = '\0';
		for (size_t j = 0; j < st.nlayers; j++) {
			if (strcmp(st.blob[j], l->digest + 7) == 0 && layer_exists(home, st.id[j])) {
				snprintf(nst.id[i], sizeof(nst.id[i]), "%s", st.id[j]);
			}
		}
		if (nst.id[i][0]) {
			shared++;
			continue;
		}
		if ((bfds[i] = fetch_blob(sfd, base, l->digest + 7, l->size)) < 0) {
			rc = bfds[i];
			goto close_blobs;
		}
		char url[URL_MAX + 100];
		snprintf(url, sizeof(url), "%sblobs/sha256/%s", base, l->digest + 7);
		if (check_blob(bfds[i], url, l, &t) < 0) {
			int bd = openat(sfd, "blobs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (bd >= 0) {
				unlinkat(bd, l->digest + 7, 0); /* fetched again next time */
				close(bd);
			}
			goto close_blobs;
		}
		fetched++;
	}
	/* The same version with the same layers (a refreshed feed): nothing to switch. */
	bool same = st.version == it->version && st.nlayers == it->nlayers;
	for (size_t i = 0; same && i < it->nlayers; i++) {
		same = strcmp(nst.id[i], st.id[i]) == 0;
	}
	struct layer_switch sw = {0}, prev = {0};
	struct layer_list cur;
	int pending = 0, applied = 0;
	if (!same) {
		/* The new layers, made in the store: no VM names them yet, so nothing of the
		 * VM changes, running or not. */
		for (size_t i = 0; i < it->nlayers; i++) {
			char label[96], shown[URL_MAX + 100];
			if (nst.id[i][0]) {
				continue;
			}
			snprintf(label, sizeof(label), "vmcast v%" PRIu64 " %zu", it->version, i + 1);
			snprintf(shown, sizeof(shown), "%sblobs/sha256/%s", base, it->layers[i].digest + 7);
			if (make_layer(home, bfds[i], shown, &it->layers[i], label, nst.id[i], &lay_made[i]) < 0) {
				goto undo;
			}
		}
	}
	/* The switch (store/layers.h), recorded and tried under the switch lock: at once when
	 * the VM is idle, else by its last process's end or the next fvm that finds it idle. */
	if ((swlock = layer_switch_lock(vmdir)) < 0 || (pending = layer_switch_read(vmdir, &prev)) < 0) {
		goto undo;
	}
	if (!same) {
		/* From the version the list holds: the pending switch's, else the state's. */
		if (pending) {
			sw.from = prev.from;
		} else {
			for (size_t i = st.nlayers; i-- > 0;) {
				snprintf(sw.from.id[sw.from.n++], sizeof(sw.from.id[0]), "%s", st.id[i]);
			}
		}
		for (size_t i = it->nlayers; i-- > 0;) {
			snprintf(sw.to.id[sw.to.n++], sizeof(sw.to.id[0]), "%s", nst.id[i]);
		}
		/* The VM's own layers (above the subscribed ones) and the version's must fit. */
		if (layer_list_read(vmdir, &cur) < 0) {
			goto undo;
		}
		size_t own = 0;
		while (own < cur.n) {
			bool sub = false;
			for (size_t j = 0; j < sw.from.n; j++) {
				sub = sub || strcmp(cur.id[own], sw.from.id[j]) == 0;
			}
			for (size_t j = 0; j < sw.to.n; j++) {
				sub = sub || strcmp(cur.id[own], sw.to.id[j]) == 0;
			}
			if (sub) {
				break;
			}
			own++;
		}
		if (own + sw.to.n > FVM_MAX_LAYERS) {
			warnx("%s: its own layers and version %" PRIu64 "'s are more than %d: refused",
			      name, it->version, FVM_MAX_LAYERS);
			goto undo;
		}
		if (layer_switch_write(vmdir, &sw) < 0) {
			goto undo;
		}
		pending = 1;
	}
	if (pending) {
		applied = layer_switch_try(vmdir, -1);
	}
	nst.sequence = f.sequence;
	nst.version = it->version;
	snprintf(nst.feed, sizeof(nst.feed), "%s", hex);
	nst.pulled = now;
	if ((!cached && (replace_write(sfd, "feed.xml", text, len, 0600) < 0 ||
			 replace_write(sfd, "feed.xml.minisig", sigtext, siglen, 0600) < 0)) ||
	    state_write(sfd, &nst) < 0) {
		warnx("%s: version %" PRIu64 " recorded for its switch, but its subscription state was not saved",
		      name, it->version);
		rc = PULL_STORE;
		goto close_lock;
	}
	if (!same && prev.to.n) {
		/* The layers of a version that waited and was overtaken, unless still named. */
		layer_free_unused(home, &prev.to);
	}
	blobs_drop(sfd, it);
	if (succ) {
		char nid[17];
		if (key_add(sfd, f.successor_pub, strlen(f.successor_pub), nid) == 0) {
			printf("%s: now trusting the successor key %s the feed announces\n", name, nid);
		}
	}
	const char *when = applied < 0 ? " (its switch failed: it is tried again when the VM is idle)"
			   : pending && !applied ? "; the VM runs: it switches when its last process ends"
						 : "";
	if (same) {
		printf("%s: up to date at version %" PRIu64 " (sequence %" PRIu64 "%s)%s\n", name,
		       it->version, f.sequence, cached ? ", not modified" : "", when);
	} else {
		printf("%s: version %" PRIu64 " (sequence %" PRIu64 "): %zu layer%s, %zu downloaded, "
		       "%zu shared%s\n", name, it->version, f.sequence, it->nlayers,
		       it->nlayers == 1 ? "" : "s", fetched, shared, when);
	}
	size_t nconf = applied > 0 ? conflicts_count(sfd) : 0;
	if (nconf) {
		fprintf(stderr, "fvm pull: %s: %zu file%s of version %" PRIu64 " the VM changed too: its "
			"own stay%s on top (fvm info %s lists them)\n", name, nconf, nconf == 1 ? "" : "s",
			it->version, nconf == 1 ? "s" : "", name);
	}
	rc = applied < 0 ? PULL_REFUSED : 0;
	goto close_lock;
undo:
	for (size_t i = 0; i < it->nlayers; i++) {
		if (lay_made[i] && !layer_in_use(home, nst.id[i])) {
			layer_remove(home, nst.id[i]);
		}
	}
close_lock:
	if (swlock >= 0) {
		close(swlock);
	}
close_blobs:
	for (size_t i = 0; i < it->nlayers; i++) {
		if (bfds[i] >= 0) {
			close(bfds[i]);
		}
	}
out:
	feed_free(&f);
	free(text);
	free(sigtext);
	close(sfd);
	return rc;
}

static int status_of(int r)
{
	return r == 0 ? FVM_EXIT_OK : r == PULL_REMOTE ? FVM_EXIT_REMOTE
		: r == PULL_STORE ? FVM_EXIT_STORE : FVM_EXIT_REFUSED;
}

/* The status of the worse of A and B: remote, store and refusal before success. */
static int worse(int a, int b)
{
	return a == FVM_EXIT_OK ? b : b == FVM_EXIT_OK ? a : a > b ? a : b;
}

int cmd_pull(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"all", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	char dir[PATH_MAX];
	bool all = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'a') {
			return cli_usage(NULL);
		}
		all = true;
	}
	if (optind != argc - (all ? 0 : 1)) {
		return cli_usage(all ? "--all takes no VM NAME" : "a VM NAME (or --all) is needed");
	}
	if (!all && (rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0) {
		return rc;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		warnx("libsodium or libcurl cannot start");
		return FVM_EXIT_REFUSED;
	}
	if (!all) {
		rc = status_of(pull(argv[optind], dir));
	} else {
		/* Every VM of the store with a subscription, each on its own. */
		char ctl[PATH_MAX + 8];
		struct dirent *e;
		DIR *d;
		size_t n = 0;
		rc = FVM_EXIT_OK;
		snprintf(ctl, sizeof(ctl), "%s/%s", s->home, FVM_CTL_DIR);
		if (strlen(s->home) + 8 < PATH_MAX && (d = opendir(ctl))) {
			while ((e = readdir(d))) {
				char sub[PATH_MAX + 300];
				struct stat st;
				snprintf(sub, sizeof(sub), "%s/%s/%s/state", ctl, e->d_name, SUB_DIR);
				if (e->d_name[0] == '.' || lstat(sub, &st) < 0 || !store_vm_exists(s, e->d_name) ||
				    store_vm_dir(s, e->d_name, dir, sizeof(dir)) < 0) {
					continue;
				}
				n++;
				rc = worse(rc, status_of(pull(e->d_name, dir)));
			}
			closedir(d);
		}
		if (n == 0) {
			printf("no VM of %s is subscribed to a feed\n", s->home);
		}
	}
	curl_global_cleanup();
	return rc;
}

/* A key file the user names (any path), whole into *OUT. 0 or -1 (reported). */
static int read_small(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MS_FILE_MAX) {
		warnx("%s: %s", path, fd < 0 ? strerror(errno) : "not a key file");
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	if (!(*out = malloc((size_t)st.st_size + 1)) ||
	    (n = read(fd, *out, (size_t)st.st_size)) != st.st_size) {
		warn("%s", path);
		close(fd);
		return -1;
	}
	close(fd);
	(*out)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

/* True when URL has no blank, control or non-ASCII byte (it is shown and stored as a line). */
static bool url_printable(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f) {
			return false;
		}
	}
	return true;
}

static int fill_empty(int vmfd, void *arg)
{
	(void)vmfd, (void)arg;
	return 0;
}

int cmd_subscribe(const struct fvm_store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"pub", required_argument, NULL, 'p'},
		{"pubkey", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	const char *pubs[MAX_KEYS];
	size_t npubs = 0;
	char dir[PATH_MAX];
	int c, rc, sfd;

	while ((c = getopt_long(argc, argv, "p:", longopts, NULL)) != -1) {
		if (c != 'p') {
			return cli_usage(NULL);
		}
		if (npubs == MAX_KEYS) {
			return cli_usage("at most 16 --pub keys");
		}
		pubs[npubs++] = optarg;
	}
	if (optind == argc - 1 && npubs == 0) {
		/* Show the subscription. */
		if ((rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0) {
			return rc;
		}
		if ((sfd = sub_open(dir, false)) < 0) {
			warnx("%s: not subscribed", argv[optind]);
			return FVM_EXIT_REFUSED;
		}
		close(sfd);
		printf("%s:\n", argv[optind]);
		vmcast_info_print(dir, stdout, false);
		return 0;
	}
	if (optind != argc - 2 || npubs == 0) {
		return cli_usage("a VM NAME, the feed's URL and at least one --pub KEY.pub are needed");
	}
	const char *name = argv[optind];
	char url[URL_MAX];
	size_t ulen = strlen(argv[optind + 1]);
	/* A directory's URL names its feed.xml. */
	snprintf(url, sizeof(url), "%s%s%s", argv[optind + 1],
		 ulen && argv[optind + 1][ulen - 1] == '/' ? "" : ulen > 4 &&
		 strcmp(argv[optind + 1] + ulen - 4, ".xml") == 0 ? "" : "/",
		 ulen > 4 && strcmp(argv[optind + 1] + ulen - 4, ".xml") == 0 ? "" : "feed.xml");
	if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0 &&
	     strncmp(url, "file://", 7) != 0) || strlen(url) > URL_MAX - 32 || !url_printable(url)) {
		return cli_usage("the URL must be http://, https:// or file://, without blanks");
	}
	/* The keys first: a bad one changes nothing. */
	char *texts[MAX_KEYS] = {0};
	size_t lens[MAX_KEYS];
	rc = FVM_EXIT_REFUSED;
	for (size_t i = 0; i < npubs; i++) {
		struct ms_pubkey pk;
		static char pbuf[MAX_KEYS][PATH_MAX + 32]; /* pubs[i] may point here until the end */
		pubs[i] = cli_key_file(s, pubs[i], ".pub", pbuf[i], sizeof(pbuf[i]));
		if (read_small(pubs[i], &texts[i], &lens[i]) < 0) {
			goto out;
		}
		const char *why;
		if (ms_pubkey_parse(texts[i], lens[i], &pk, &why) < 0) {
			warnx("%s: %s", pubs[i], why);
			goto out;
		}
	}
	if (store_vm_dir(s, name, dir, sizeof(dir)) < 0) {
		rc = FVM_EXIT_USAGE;
		goto out;
	}
	if (!store_vm_exists(s, name)) {
		if (store_vm_create_filled(s, name, fill_empty, NULL) < 0) {
			goto out;
		}
		printf("%s: created (empty)\n", name);
	}
	if ((sfd = sub_open(dir, true)) < 0) {
		goto out;
	}
	struct sub_state st;
	int r = state_read(sfd, &st);
	if (r < 0) {
		close(sfd);
		rc = FVM_EXIT_STORE;
		goto out;
	}
	if (r == 1 || strcmp(st.url, url) != 0) {
		/* A new feed: what was seen of another says nothing of this one's sequence. */
		struct sub_state keep = st;
		memset(&st, 0, sizeof(st));
		if (r == 0) {
			st.nlayers = keep.nlayers; /* the VM is still at those layers */
			memcpy(st.blob, keep.blob, sizeof(st.blob));
			memcpy(st.id, keep.id, sizeof(st.id));
			st.version = 0;
		}
		snprintf(st.url, sizeof(st.url), "%s", url);
	}
	for (size_t i = 0; i < npubs; i++) {
		char id[17];
		if (key_add(sfd, texts[i], lens[i], id) < 0) {
			close(sfd);
			goto out;
		}
		printf("%s: trusting key %s (%s)\n", name, id, pubs[i]);
	}
	if (state_write(sfd, &st) < 0) {
		close(sfd);
		goto out;
	}
	close(sfd);
	printf("%s: subscribed to %s (fvm pull %s)\n", name, url, name);
	rc = 0;
out:
	for (size_t i = 0; i < npubs; i++) {
		free(texts[i]);
	}
	return rc;
}
