/*
 * cmd_publish.c — fvm publish VM --feed DIR --key K [--base-url URL] [--title T]
 * [--notes TEXT] [--valid-days N]: a new version of VM in the VMcast feed DIR
 * (DESIGN.md "Delivery (VMcasting)"; store/feed.h).
 *
 * Rules: the secret key is loaded (and its passphrase asked) before anything changes;
 * the VM's lock is held, idle, throughout; its upper/ is snapshotted into a layer when
 * it holds anything, and the version is the VM's whole layer list. Each layer is one
 * gzip OCI layer tar (store/oci.h) at DIR/blobs/sha256/HEX, content-addressed, with
 * its minisign signature at HEX.minisig; a blob already there is kept and its
 * signature reused. The item goes first in DIR/feed.xml with the next version number,
 * the channel's sequence one more than before and its valid-until now + N days
 * (default 7); feed.xml and then feed.xml.minisig are each written to a temporary and
 * renamed over the old. A version whose layers are the latest's is refused.
 * fvm publish --refresh --feed DIR --key K [--valid-days N] re-signs the feed with the
 * next sequence and a new valid-until and no new version (a feed must stay fresh while
 * nothing changes); it needs no VM. --successor NEW.pub announces the key that will
 * sign the feed next (key rotation): its public key file's text in the channel, signed
 * by the current key; it stays in the feed until another replaces it.
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "store/feed.h"
#include "store/layers.h"
#include "store/minisign.h"
#include "store/oci.h"
#include "store/procs.h"
#include "store/replace.h"

/* TEXT (LEN bytes) into DIR/NAME (DFD) through a temporary renamed over it (replace.h). */
static int replace_file(int dfd, const char *dir, const char *name, const char *text, size_t len)
{
	int r = replace_write(dfd, name, text, len, 0644);

	if (r < 0) {
		warnx("%s/%s: %s", dir, name, strerror(-r));
		return -1;
	}
	return 0;
}

/* A small file of DFD read whole (NUL-terminated), or NULL (errno; ENOENT: none). */
static char *read_at(int dfd, const char *name, size_t max, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char *buf;
	struct stat st;

	if (fd < 0) {
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	ssize_t n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* True when the directory FD has an entry. */
static bool dir_has_entries(int fd)
{
	DIR *d = fdopendir(dup(fd));
	struct dirent *e;
	bool any = false;

	if (!d) {
		return true;
	}
	while (!any && (e = readdir(d))) {
		any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	}
	closedir(d);
	return any;
}

/*
 * Layer tree TREE as a blob of BLOBS (DIR/blobs/sha256), its signature beside it:
 * written unless a blob of the same digest is there already. Fills L.
 */
static int put_blob(int bfd, const char *dir, const char *tree, const struct ms_seckey_raw *sk,
		    struct feed_layer *l, struct oci_blob_info *info)
{
	struct oci_write_opts o = {.compress = OCI_COMPRESS_GZIP, .digests = true};
	char tmp[NAME_MAX + 1], signame[OCI_DIGEST_HEX + 8], trusted[160];
	int tfd, fd, r;

	if ((tfd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		warn("%s", tree);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), ".blob.tmp.%d", (int)getpid());
	fd = openat(bfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		warn("%s/blobs/sha256/%s", dir, tmp);
		close(tfd);
		return -1;
	}
	r = oci_tar_write(&tfd, 1, fd, &o, info);
	close(tfd);
	if (r < 0) {
		close(fd);
		unlinkat(bfd, tmp, 0);
		return -1;
	}
	snprintf(l->digest, sizeof(l->digest), "sha256:%s", info->digest);
	l->size = info->size;
	snprintf(signame, sizeof(signame), "%s.minisig", info->digest);
	size_t slen;
	struct stat st;
	if (fstatat(bfd, info->digest, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size == info->size && (l->signature = read_at(bfd, signame, MS_FILE_MAX, &slen))) {
		close(fd); /* the same blob, published before: kept with its signature */
		unlinkat(bfd, tmp, 0);
		return 0;
	}
	snprintf(trusted, sizeof(trusted), "fvm layer %s size %" PRIu64, l->digest, l->size);
	lseek(fd, 0, SEEK_SET);
	r = ms_sign(sk, NULL, 0, fd, false, info->digest, "fvm layer blob signature", trusted,
		    &l->signature);
	if (fsync(fd) < 0 || close(fd) < 0) {
		r = -1;
	}
	if (r == 0 && (replace_file(bfd, dir, signame, l->signature, strlen(l->signature)) < 0 ||
		       renameat(bfd, tmp, bfd, info->digest) < 0)) {
		warn("%s/blobs/sha256/%s", dir, info->digest);
		r = -1;
	}
	if (r < 0) {
		unlinkat(bfd, tmp, 0);
	}
	return r;
}

/* DIR/blobs/sha256, made. fd or -1 (reported). */
static int blobs_dir(int dfd, const char *dir)
{
	if ((mkdirat(dfd, "blobs", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(dfd, "blobs/sha256", 0755) < 0 && errno != EEXIST)) {
		warn("%s/blobs/sha256", dir);
		return -1;
	}
	int fd = openat(dfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		warn("%s/blobs/sha256", dir);
	}
	return fd;
}

struct pub_opts {
	const char *feed, *key, *base, *title, *notes;
	long days;
	bool refresh;
	char *succ_pub, *succ_sig;  /* --successor: its text, and its signature by the key */
};

/* The feed F renewed (sequence + 1, valid-until now + days) into DFD's feed.xml and
 * feed.xml.minisig. */
static int write_feed(int dfd, const struct pub_opts *po, struct feed *nf,
		      const struct ms_seckey_raw *sk)
{
	char *text = NULL, *sig = NULL, trusted[128];
	const char *wwhy;
	size_t len;
	int r;

	char *old_pub = nf->successor_pub, *old_sig = nf->successor_sig;

	nf->built = (long long)time(NULL);
	nf->sequence++;
	nf->valid_until = nf->built + po->days * 86400;
	if (po->succ_pub) {
		nf->successor_pub = po->succ_pub;
		nf->successor_sig = po->succ_sig;
	}
	r = feed_write(nf, &text, &len, &wwhy);
	nf->successor_pub = old_pub; /* the caller frees what it parsed, po what it made */
	nf->successor_sig = old_sig;
	if (r < 0) {
		warnx("%s/feed.xml: %s", po->feed, wwhy);
		return -1;
	}
	snprintf(trusted, sizeof(trusted), "fvm feed sequence %" PRIu64, nf->sequence);
	r = ms_sign(sk, text, len, -1, false, "feed.xml", "fvm feed signature", trusted, &sig);
	if (r == 0) {
		r = replace_file(dfd, po->feed, "feed.xml", text, len);
	}
	if (r == 0) {
		r = replace_file(dfd, po->feed, "feed.xml.minisig", sig, strlen(sig));
	}
	free(sig);
	free(text);
	return r;
}

/* --refresh: the feed re-signed, nothing else changed. */
static int refresh(const struct pub_opts *po, const struct ms_seckey_raw *sk)
{
	struct feed f;
	char why[512], *text;
	size_t len;
	int r, dfd = open(po->feed, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0) {
		warn("%s", po->feed);
		return -1;
	}
	if (!(text = read_at(dfd, "feed.xml", FEED_MAX_BYTES, &len))) {
		warn("%s/feed.xml", po->feed);
		close(dfd);
		return -1;
	}
	r = feed_parse(text, len, &f, why, sizeof(why));
	free(text);
	if (r < 0) {
		warnx("%s/feed.xml: %s", po->feed, why);
		close(dfd);
		return -1;
	}
	r = write_feed(dfd, po, &f, sk);
	if (r == 0) {
		printf("%s/feed.xml: refreshed (sequence %" PRIu64 ", no new version)\n", po->feed,
		       f.sequence);
	}
	feed_free(&f);
	close(dfd);
	return r;
}

static int publish(const struct fvm_store *s, const char *name, const char *vmdir,
		   const struct pub_opts *po, const struct ms_seckey_raw *sk)
{
	struct feed f = {0};
	struct feed_item it = {0};
	struct feed_layer layers[FVM_MAX_LAYERS];
	struct layer_list l = {0};
	struct oci_blob_info info;
	char why[512], tree[PATH_MAX], id[FVM_LAYER_ID_MAX + 1], label[128], *text = NULL;
	char desc[1024 + 4096], url[8192];
	size_t len = 0, nl = 0;
	int dfd, bfd = -1, ufd, r = -1;
	long long now = (long long)time(NULL);

	(void)s;
	memset(layers, 0, sizeof(layers));
	if (mkdir(po->feed, 0755) < 0 && errno != EEXIST) {
		warn("%s", po->feed);
		return -1;
	}
	if ((dfd = open(po->feed, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		warn("%s", po->feed);
		return -1;
	}
	if ((text = read_at(dfd, "feed.xml", FEED_MAX_BYTES, &len))) {
		if (feed_parse(text, len, &f, why, sizeof(why)) < 0) {
			warnx("%s/feed.xml: %s", po->feed, why);
			goto out;
		}
		free(text);
		text = NULL;
	} else if (errno != ENOENT) {
		warn("%s/feed.xml", po->feed);
		goto out;
	}
	it.version = f.nitems ? f.items[0].version + 1 : 1;
	if ((bfd = blobs_dir(dfd, po->feed)) < 0) {
		goto out;
	}
	/* The VM's upper/ becomes the version's top layer when it holds anything. */
	if ((ufd = store_upper_open(vmdir)) < 0) {
		goto out;
	}
	bool changed = dir_has_entries(ufd);
	close(ufd);
	if (changed) {
		snprintf(label, sizeof(label), "published v%" PRIu64, it.version);
		if (layer_snapshot(vmdir, label, id) < 0) {
			goto out;
		}
	}
	char home[PATH_MAX];
	if (layer_list_read(vmdir, &l) < 0 || l.n == 0 || layer_home(vmdir, home, sizeof(home)) < 0) {
		if (l.n == 0) {
			warnx("%s: nothing to publish: the VM has no changes", name);
		}
		goto out;
	}
	/* The layers bottom first; the list is top first. */
	for (size_t i = l.n; i-- > 0;) {
		if (layer_tree_path(home, l.id[i], tree, sizeof(tree)) < 0 ||
		    put_blob(bfd, po->feed, tree, sk, &layers[nl], &info) < 0) {
			goto out;
		}
		nl++;
	}
	if (f.nitems && f.items[0].nlayers == nl) {
		bool same = true;
		for (size_t i = 0; i < nl; i++) {
			same = same && strcmp(f.items[0].layers[i].digest, layers[i].digest) == 0;
		}
		if (same) {
			warnx("%s: nothing new since version %" PRIu64 " of %s/feed.xml", name,
			      f.items[0].version, po->feed);
			goto out;
		}
	}
	/* What the top layer changes, against the host and the layers below. */
	struct fvm_changes ch = {0};
	struct cli_counts n = {0};
	if (layer_tree_path(home, l.id[0], tree, sizeof(tree)) < 0) {
		goto out;
	}
	int sr = fvm_changes_scan(tree, NULL, 0, &ch);
	if (sr < 0) {
		warnx("%s: %s", tree, strerror(-sr));
		goto out;
	}
	cli_count(&ch, &n);
	fvm_changes_free(&ch);
	it.added = n.added;
	it.modified = n.modified;
	it.deleted = n.deleted;
	it.bytes = info.bytes; /* the content bytes of the top layer, the last written */
	snprintf(desc, sizeof(desc), "%zu added, %zu modified, %zu deleted, %" PRIu64
		 " bytes%s%s", n.added, n.modified, n.deleted, it.bytes, po->notes ? ". " : "",
		 po->notes ? po->notes : "");
	char title[512];
	snprintf(title, sizeof(title), "%s version %" PRIu64, name, it.version);
	/* BASE names the feed's directory, with or without its last slash. */
	const char *base = po->base ? po->base : "";
	size_t bl = strlen(base);
	snprintf(url, sizeof(url), "%s%sblobs/sha256/%s", base, bl && base[bl - 1] != '/' ? "/" : "",
		 layers[nl - 1].digest + 7);
	it.title = title;
	it.description = desc;
	it.pubdate = now;
	it.enclosure_url = url;
	it.enclosure_length = layers[nl - 1].size;
	it.nlayers = nl;
	it.layers = layers;
	/* The new item first; the channel renewed. */
	struct feed_item *items = calloc(f.nitems + 1, sizeof(*items));
	if (!items) {
		warn("publish");
		goto out;
	}
	items[0] = it;
	if (f.nitems) {
		memcpy(items + 1, f.items, f.nitems * sizeof(*items));
	}
	struct feed nf = f;
	char deftitle[256];
	snprintf(deftitle, sizeof(deftitle), "fvm VM %s", name);
	nf.title = (char *)(po->title ? po->title : f.title ? f.title : deftitle);
	nf.link = (char *)(po->base ? po->base : f.link ? f.link : "./");
	nf.description = f.description ? f.description : (char *)"fvm VM versions (VMcast)";
	nf.items = items;
	nf.nitems = f.nitems + 1;
	r = write_feed(dfd, po, &nf, sk);
	free(items);
	if (r == 0) {
		printf("%s: version %" PRIu64 " published in %s/feed.xml (sequence %" PRIu64
		       ", %zu layer%s, top %s)\n", name, it.version, po->feed, nf.sequence, nl,
		       nl == 1 ? "" : "s", layers[nl - 1].digest);
	}
out:
	for (size_t i = 0; i < nl; i++) {
		free(layers[i].signature);
	}
	feed_free(&f);
	free(text);
	if (bfd >= 0) {
		close(bfd);
	}
	close(dfd);
	return r;
}

int cmd_publish(const struct fvm_store *s, int argc, char **argv)
{
	enum { OPT_BASE = 256, OPT_TITLE, OPT_NOTES, OPT_DAYS };
	static const struct option longopts[] = {
		{"feed", required_argument, NULL, 'f'},
		{"key", required_argument, NULL, 'k'},
		{"base-url", required_argument, NULL, OPT_BASE},
		{"title", required_argument, NULL, OPT_TITLE},
		{"notes", required_argument, NULL, OPT_NOTES},
		{"valid-days", required_argument, NULL, OPT_DAYS},
		{"refresh", no_argument, NULL, 'r'},
		{"successor", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	struct pub_opts po = {.days = 7};
	char dir[PATH_MAX], *end;
	const char *succ = NULL;
	int c, rc, lock;

	while ((c = getopt_long(argc, argv, "f:k:", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': po.refresh = true; break;
		case 's': succ = optarg; break;
		case 'f': po.feed = optarg; break;
		case 'k': po.key = optarg; break;
		case OPT_BASE: po.base = optarg; break;
		case OPT_TITLE: po.title = optarg; break;
		case OPT_NOTES: po.notes = optarg; break;
		case OPT_DAYS:
			po.days = strtol(optarg, &end, 10);
			if (*end || po.days < 1 || po.days > 3650) {
				fprintf(stderr, "fvm publish: --valid-days %s: 1 to 3650\n", optarg);
				return cli_usage(NULL);
			}
			break;
		default:
			return cli_usage(NULL);
		}
	}
	if (!po.feed || !po.key) {
		return cli_usage("--feed DIR and --key K are needed");
	}
	if (optind != argc - (po.refresh ? 0 : 1)) {
		return cli_usage(po.refresh ? "--refresh takes no VM" : "one VM NAME is needed");
	}
	if (po.refresh && (po.base || po.title || po.notes)) {
		return cli_usage("--refresh takes no --base-url, --title or --notes");
	}
	if (po.notes && strlen(po.notes) > 4000) {
		return cli_usage("--notes: at most 4000 bytes");
	}
	if (!po.refresh && (rc = cli_vm(s, argv[optind], dir, sizeof(dir))) != 0) {
		return rc;
	}
	struct ms_seckey_raw *sk = sodium_init() < 0 ? NULL : sodium_malloc(sizeof(*sk));
	if (!sk) {
		warnx("libsodium cannot start");
		return FVM_EXIT_PARTIAL;
	}
	char kbuf[PATH_MAX + 32];
	po.key = cli_key_file(s, po.key, ".key", kbuf, sizeof(kbuf));
	if (ms_seckey_load(po.key, sk) < 0) {
		sodium_free(sk);
		return FVM_EXIT_PARTIAL;
	}
	if (succ) {
		/* The successor key announced, signed by the current one. */
		struct ms_pubkey npk;
		char trusted[64], id[17];
		size_t len;
		char sbuf[PATH_MAX + 32];
		succ = cli_key_file(s, succ, ".pub", sbuf, sizeof(sbuf));
		if (ms_pubkey_load(succ, &npk) < 0) {
			sodium_free(sk);
			return FVM_EXIT_PARTIAL;
		}
		if (!(po.succ_pub = read_at(AT_FDCWD, succ, MS_FILE_MAX, &len))) {
			warn("--successor %s", succ);
			sodium_free(sk);
			return FVM_EXIT_PARTIAL;
		}
		ms_keyid(npk.keynum, id);
		snprintf(trusted, sizeof(trusted), "fvm successor key %s", id);
		if (ms_sign(sk, po.succ_pub, len, -1, false, NULL, "fvm successor key signature",
			    trusted, &po.succ_sig) < 0) {
			free(po.succ_pub);
			sodium_free(sk);
			return FVM_EXIT_PARTIAL;
		}
	}
	if (po.refresh) {
		rc = refresh(&po, sk) < 0 ? FVM_EXIT_PARTIAL : 0;
		sodium_free(sk);
		free(po.succ_pub);
		free(po.succ_sig);
		return rc;
	}
	lock = vm_lock_idle(dir, argv[optind], "publish");
	if (lock < 0) {
		sodium_free(sk);
		return FVM_EXIT_PARTIAL;
	}
	rc = publish(s, argv[optind], dir, &po, sk) < 0 ? FVM_EXIT_PARTIAL : 0;
	close(lock);
	sodium_free(sk);
	free(po.succ_pub);
	free(po.succ_sig);
	return rc;
}
