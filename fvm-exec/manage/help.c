/*
 * help.c — what `fvm SUB --help` and `fvm help SUB` print: a subcommand's synopsis,
 * what it does, its options and an example (cmd.h).
 *
 * Rules:
 * - The one list of subcommands: main.c dispatches from it, `fvm --help` prints each
 *   entry's line, completion offers its names and options. Each synopsis matches the
 *   one in fvm(1); tests/e2e/t_exit.sh asks every subcommand for its help.
 * - Help goes to standard output and the status is 0; a usage error gets one line on
 *   standard error, then "see fvm SUB --help" (cli_usage), status FVM_EXIT_USAGE.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct cli_entry helps[] = {
	{"list", "fvm list [--json] [--bytes]",
	 "The VMs in the store: name, state, changes, size (as ls -h: 4.0K), last use.",
	 "  --json                 an array of objects instead of the table\n"
	 "  --bytes                sizes in bytes, exactly\n",
	 "fvm list",
	 "list [--json] [--bytes]                the VMs in the store", cmd_list},
	{"info", "fvm info NAME [--json] [--bytes]",
	 "A VM's directory, state, sizes, changes, processes and effective policy.",
	 "  --json                 one JSON object\n"
	 "  --bytes                sizes in bytes, exactly\n",
	 "fvm info build",
	 "info NAME [--json] [--bytes]           a VM's policy, sizes, changes, processes, subscription", cmd_info},
	{"diff", "fvm diff NAME [--stat | --json | -p] [--layer LABEL | --conflicts] [--color[=WHEN]] [PATH...]",
	 "What VM NAME changed, one line per change: A (added), M (modified), D (deleted).\n"
	 "A PATH selects the changes at or beneath it; a PATH that matches no change is an\n"
	 "error naming it (status 1).",
	 "  --stat                 what changed of each (content, mode, owner...) and the sizes\n"
	 "  --json                 one JSON object per change\n"
	 "  -p, --patch            a unified diff of each changed text file\n"
	 "  --layer LABEL          what the snapshot LABEL holds, not the merged view\n"
	 "  --conflicts            only the changes whose host file differs from what the VM\n"
	 "                         copied (changed since, or another host's, after an import)\n"
	 "  --color[=WHEN]         colour A, M, D (and -p's lines): auto (the default: on a\n"
	 "                         terminal, unless NO_COLOR is set), always, never\n",
	 "fvm diff build ~/src/proj",
	 "diff NAME [--stat|--json|-p] [--layer LABEL|--conflicts] [--color=WHEN] [PATH...] what VM NAME changed (A/M/D)", cmd_diff},
	{"compare", "fvm compare A B [-p] [--diffoscope] [PATH...]",
	 "What VMs A and B changed, compared: one line per path either changed, sorted:\n"
	 "'< PATH' only A has it, '> PATH' only B has it, 'M PATH<TAB>WHAT' both have it and\n"
	 "its type, content, mode, owner or link target differ, '= PATH' identical; then a\n"
	 "count. Status 0 when nothing differs, 1 when something does.",
	 "  -p, --patch            a unified diff of each differing text file; a binary file\n"
	 "                         goes to diffoscope when it is installed\n"
	 "  --diffoscope           every differing file goes to diffoscope (implies -p)\n",
	 "fvm compare build1 build2 /src/out",
	 "compare A B [-p] [--diffoscope] [PATH...] what two VMs changed, compared", cmd_compare},
	{"commit", "fvm commit NAME [--dry-run] [--force] [--allow-privileged] [PATH...]",
	 "Apply VM NAME's changes (or those at or beneath each PATH) to the host. A PATH that\n"
	 "matches no change is an error naming it (status 1), and nothing is applied.",
	 "  -n, --dry-run          print what would be applied, change nothing\n"
	 "  -f, --force            apply over host files changed since the VM saw them\n"
	 "  --allow-privileged     apply changes that grant privilege (setuid, caps...)\n",
	 "fvm commit --dry-run build ~/src/proj",
	 "commit NAME [--dry-run] [--force] [--allow-privileged] [PATH...]  apply changes to the host", cmd_commit},
	{"reset", "fvm reset NAME [--all] [--dry-run] [PATH...]",
	 "Discard VM NAME's changes (or those at or beneath each PATH). A PATH that matches no\n"
	 "change is an error naming it (status 1), and nothing is discarded.",
	 "  --all                  discard the VM's snapshots (layers) too; no PATH\n"
	 "  -n, --dry-run          print what would be discarded, change nothing\n",
	 "fvm reset build ~/src/proj/tmp",
	 "reset NAME [--all] [--dry-run] [PATH...] discard changes (--all: the layers too)", cmd_reset},
	{"rm", "fvm rm [--force] NAME", "Remove VM NAME: its changes, snapshots and control files.",
	 "  -f, --force            end the VM's processes first (else a running VM is refused)\n",
	 "fvm rm build",
	 "rm [--force] NAME                      remove the VM", cmd_rm},
	{"migrate", "fvm migrate", "Convert a store made by an earlier fvm to the current format.",
	 "", "fvm migrate",
	 "migrate                                convert a store made by an earlier fvm", cmd_migrate},
	{"ps", "fvm ps NAME [--json]", "The live processes of VM NAME.",
	 "  --json                 an array of objects\n", "fvm ps build",
	 "ps NAME [--json]                       the live processes of VM NAME", cmd_ps},
	{"stats", "fvm stats NAME [--json]",
	 "What VM NAME consumes: its live processes' CPU time, memory (RSS, PSS, peak) and I/O,\n"
	 "and the accounts of its past runs (the last runs-kept, kept by each run's supervisor):\n"
	 "wall and CPU time, peak memory, I/O, copy-ups, layer size, how the run ended and the\n"
	 "quota that stopped it. SOURCE says whether a figure came from the run's cgroup or\n"
	 "from its supervisor's view of the processes it reaped.",
	 "  --json                 one object: live, runs\n", "fvm stats build",
	 "stats NAME [--json]                    what VM NAME consumes now and what its past runs did", cmd_stats},
	{"top", "fvm top [--once] [--json] [--delay SECONDS]",
	 "Every running VM, one line each: its processes, CPU % (100 = one CPU), memory, read\n"
	 "and write rates and layer size, redrawn every second on a terminal like top(1); q or\n"
	 "Ctrl-C quits and gives the terminal back. CPU % and memory come from the runs'\n"
	 "cgroups where they keep them, else from /proc (CPU% marked *); I/O from /proc.",
	 "  --once                 one table, measured over one delay, then exit\n"
	 "  --json                 one sample as JSON: vms, with each figure's source\n"
	 "  -d, --delay SECONDS    between samples (default 1)\n",
	 "fvm top --once --json",
	 "top [--once] [--json] [--delay S]      every running VM: processes, CPU %, memory, I/O, layer", cmd_top},
	{"trace", "fvm trace NAME [--run N] [--json] [--outside PATH...]",
	 "What a run of VM NAME made with fvm-exec --trace read, ran and changed: its inputs\n"
	 "(each file's content read, where it lay, and its sha256 taken after the run, or\n"
	 "changed-during-run), the programs it ran with their arguments, its outputs (the VM's\n"
	 "changes during the run), the environment variables it asked for, the addresses it\n"
	 "connected to, and what the trace cannot show. N is a run as fvm stats lists them,\n"
	 "1 the oldest kept, -1 the last; the default is the last traced run.",
	 "  --run N                that run (or its record's name, END-PID)\n"
	 "  --json                 one object: inputs, programs, outputs, env, net, limits...\n"
	 "  --outside PATH...      only the inputs and programs not beneath any PATH: what the\n"
	 "                         run depended on outside its own trees\n",
	 "fvm trace build --outside ~/src/proj",
	 "trace NAME [--run N] [--json] [--outside PATH...]  what a traced run read, ran and changed", cmd_trace},
	{"provenance", "fvm provenance NAME [--run N] [--key K.key]",
	 "A traced run (fvm-exec --trace) as an in-toto Statement v1 with an SLSA Provenance v1\n"
	 "predicate: the subjects are the run's output files with their sha256, the resolved\n"
	 "dependencies its inputs and programs. With --key, a DSSE envelope signed with an\n"
	 "Ed25519 key of fvm keygen; keep a key for provenance apart from a feed's key.",
	 "  --run N                that run, as for fvm trace\n"
	 "  --key K.key            sign: print a DSSE envelope instead of the statement\n",
	 "fvm provenance build --key ~/keys/provenance.key > build.intoto.json",
	 "provenance NAME [--run N] [--key K.key]  a traced run as in-toto/SLSA provenance (DSSE-signed with --key)", cmd_provenance},
	{"export", "fvm export NAME (-o FILE|- | --oci DIR[:TAG]) [--compress gzip|zstd|none] [--mtime T]",
	 "VM NAME's changes as an OCI layer (a tar) or an OCI image layout.",
	 "  -o, --output FILE|-    write the layer tar to FILE, or to standard output\n"
	 "  --oci DIR[:TAG]        write an OCI image layout to DIR (tag TAG)\n"
	 "  --compress ALG         gzip, zstd or none\n"
	 "  --mtime T              clamp every time to T (seconds since the epoch)\n",
	 "fvm export build -o build.tar",
	 "export NAME (-o FILE|- | --oci DIR[:TAG]) [--compress gzip|zstd|none] [--mtime T]  the VM's changes as an OCI layer or image", cmd_export},
	{"import", "fvm import NAME FILE|-|oci:DIR[:TAG] [--max-size SIZE] [--allow-privileged]",
	 "A new VM NAME from an OCI layer (a tar, or standard output's) or an OCI image layout.",
	 "  --max-size SIZE        refuse a layer larger than SIZE (K, M, G, T suffixes)\n"
	 "  --allow-privileged     keep entries that grant privilege (setuid, caps...)\n",
	 "fvm import build2 build.tar",
	 "import NAME FILE|-|oci:DIR[:TAG] [--max-size SIZE] [--allow-privileged]  a new VM from an OCI layer or image", cmd_import},
	{"snapshot", "fvm snapshot NAME [LABEL]",
	 "Freeze VM NAME's changes into a read-only layer labelled LABEL.", "",
	 "fvm snapshot build before-upgrade",
	 "snapshot NAME [LABEL]                  freeze the VM's changes into a layer", cmd_snapshot},
	{"snapshots", "fvm snapshots NAME [--json] [--bytes]", "VM NAME's layers: label, date, size, files.",
	 "  --json                 an array of objects, the current changes last\n"
	 "  --bytes                sizes in bytes, exactly\n",
	 "fvm snapshots build",
	 "snapshots NAME [--json] [--bytes]      its layers: label, date, size, files", cmd_snapshots},
	{"restore", "fvm restore NAME LABEL [--yes]",
	 "Return VM NAME to its snapshot LABEL: the changes made since go.",
	 "  -y, --yes              do not ask (asked only on a terminal)\n",
	 "fvm restore build before-upgrade",
	 "restore NAME LABEL [--yes]             back to a snapshot: later changes go", cmd_restore},
	{"squash", "fvm squash NAME", "Merge VM NAME's layers into one.", "", "fvm squash build",
	 "squash NAME                            merge the VM's layers into one", cmd_squash},
	{"clone", "fvm clone SRC DST", "A new VM DST sharing SRC's layers (SRC's changes are snapshotted).",
	 "", "fvm clone build build-try",
	 "clone SRC DST                          a new VM sharing SRC's layers", cmd_clone},
	{"stop", "fvm stop NAME [--kill-after DURATION]",
	 "End every process of VM NAME: SIGTERM, then SIGKILL after DURATION (default 5s).",
	 "  --kill-after DURATION  e.g. 500ms, 10s, 1m\n", "fvm stop build --kill-after 2s",
	 "stop NAME [--kill-after DURATION]      end them: SIGTERM, SIGKILL after DURATION (default 5s)", cmd_stop},
	{"config", "fvm config NAME [KEY=VALUE... | --reset]",
	 "VM NAME's policy, its vm.conf: shown, or changed for its next runs. KEY=VALUE is\n"
	 "checked as in fvm.conf(5) (an empty VALUE is the default); --reset takes what the\n"
	 "configuration files say now for every key not given on the command line or here.\n"
	 "Refused while the VM runs.",
	 "  --reset                the configuration files' values, now\n",
	 "fvm config build net=none",
	 "config NAME [KEY=VALUE... | --reset]   a VM's policy (vm.conf): show or change it", cmd_config},
	{"keygen", "fvm keygen [-o NAME] [--no-passphrase]",
	 "An Ed25519 key pair in minisign's formats: NAME.key (secret, mode 0600, encrypted with\n"
	 "a passphrase asked twice on the terminal, or read as one line from the file\n"
	 "descriptor $FVM_PASSPHRASE_FD) and NAME.pub. Existing files are never replaced.\n"
	 "Without -o: fvm.key and fvm.pub in the store's key directory, $FVM_HOME/keys, which\n"
	 "no VM sees; a --key or --pub that names no file is looked up there (--key fvm).",
	 "  -o, --output NAME      the files' name, without .key and .pub (default\n"
	 "                         $FVM_HOME/keys/fvm)\n"
	 "  --no-passphrase        leave the secret key unencrypted (automation)\n",
	 "fvm keygen",
	 "keygen [-o NAME] [--no-passphrase]     an Ed25519 key pair NAME.key, NAME.pub (minisign's formats)", cmd_keygen},
	{"sign", "fvm sign FILE --key K [-x SIG] [--legacy] [-t TRUSTED] [-c UNTRUSTED]",
	 "A minisign signature of FILE (prehashed, \"ED\"), written to SIG, by default\n"
	 "FILE.minisig; `minisign -V` verifies it.",
	 "  --key K                the secret key (refused when others may read it)\n"
	 "  -x, --sig SIG          the signature file\n"
	 "  --legacy               the legacy, not prehashed, signature (\"Ed\")\n"
	 "  -t, --trusted-comment  the signed comment\n"
	 "  -c, --comment          the unsigned comment\n",
	 "fvm sign feed.xml --key ~/keys/feed.key",
	 "sign FILE --key K [-x SIG] [--legacy] [-t TRUSTED]  FILE.minisig, a minisign signature", cmd_sign},
	{"verify", "fvm verify FILE --pub P [-x SIG] [--prehashed-only] [-q]",
	 "Checks FILE's minisign signature (fvm's or minisign's, prehashed or legacy) with the\n"
	 "public key P; a wrong key, a changed file and a changed trusted comment are each\n"
	 "refused with their own message (status 1).",
	 "  --pub P                the public key\n"
	 "  -x, --sig SIG          the signature file (FILE.minisig)\n"
	 "  --prehashed-only       refuse a legacy signature\n"
	 "  -q, --quiet            say nothing on success\n",
	 "fvm verify feed.xml --pub feed.pub",
	 "verify FILE --pub P [-x SIG] [--prehashed-only]  check a minisign signature", cmd_verify},
	{"publish",
	 "fvm publish VM --feed DIR --key K [--base-url URL] [--title T] [--notes TEXT] [--valid-days N] "
	 "[--successor NEW.pub] | fvm publish --refresh --feed DIR --key K",
	 "A new version of VM in the VMcast feed DIR (docs/VMCAST.md): its changes frozen into a\n"
	 "layer, each layer DIR lacks written as a signed content-addressed blob, an item added\n"
	 "to DIR/feed.xml, and feed.xml.minisig; --refresh re-signs the feed with a new\n"
	 "sequence and valid-until. A version with nothing new is refused (status 1).",
	 "  --feed DIR             the feed's directory\n"
	 "  --key K                the publisher's secret key\n"
	 "  --base-url URL         where DIR is served (the enclosures' URLs)\n"
	 "  --title T, --notes TEXT  the channel's title, the item's notes\n"
	 "  --valid-days N         how long the feed is valid, in days (default 7)\n"
	 "  --successor NEW.pub    announce the key that follows this one\n"
	 "  --refresh              only re-sign the feed\n",
	 "fvm publish build --feed /srv/vmcast --key ~/keys/feed.key --base-url https://example.org/vmcast",
	 "publish VM --feed DIR --key K [--base-url URL] [--title T] [--notes TEXT] | --refresh --feed DIR --key K  a VMcast feed", cmd_publish},
	{"subscribe",
	 "fvm subscribe VM URL --pub KEY.pub [--pub KEY2.pub ...] | fvm subscribe VM",
	 "Records that VM follows the VMcast feed at URL (http://, https://, file://; a URL\n"
	 "ending in / names its feed.xml), trusting the keys given, in the VM's control area; a\n"
	 "VM that does not exist is made empty. Given only VM, shows its subscription.",
	 "  --pub KEY.pub          a public key the feed may be signed by (repeatable)\n",
	 "fvm subscribe web https://example.org/vmcast/ --pub feed.pub",
	 "subscribe VM URL --pub KEY.pub [--pub ...] | subscribe VM  follow a VMcast feed (or show it)", cmd_subscribe},
	{"pull",
	 "fvm pull VM | fvm pull --all",
	 "Fetches the subscribed feed and its signature, refuses one not signed by a trusted\n"
	 "key, older than the last accepted (rollback), of the same sequence with other content\n"
	 "or past its valid-until (status 1); downloads the newest version's missing layers\n"
	 "(resuming a cut download), checks each one's sha256 and signature, and switches the\n"
	 "VM to them in one step: at once when it is idle, else when its last process ends (a\n"
	 "running VM never changes under its processes; fvm info says the switch waits). Its\n"
	 "own changes stay on top; the files both changed are listed by fvm info. A server that\n"
	 "cannot be reached is status 4.",
	 "  --all                  each subscribed VM of the store (the worst status)\n",
	 "fvm pull web",
	 "pull VM | --all                        the subscribed feed's newest version, verified", cmd_pull},
	{"doctor", "fvm doctor [--json]",
	 "What this kernel and machine give fvm, one line per check with the fix: Landlock's ABI,\n"
	 "seccomp user notification, Syscall User Dispatch, cgroup delegation, user namespaces;\n"
	 "the store (format, owner and mode, free space, user xattrs); libfvm, its audit module\n"
	 "and fvm-exec; the configuration files (parsed as fvm-exec does); /dev/shm and /tmp.\n"
	 "Each is ok, note (a feature absent, no protection weaker), degraded (a protection or\n"
	 "a VM's view weaker: the line says how) or fail. Status 0 when none is degraded or\n"
	 "failed, else 1.",
	 "  --json                 {\"ok\": BOOL, \"checks\": [{check, status, detail, fix}...]}\n",
	 "fvm doctor",
	 "doctor [--json]                        what this kernel and machine give fvm, and the fixes", cmd_doctor},
	{"help", "fvm help [COMMAND]", "This help, or COMMAND's.", "", "fvm help diff",
	 "help [COMMAND]                         this help, or COMMAND's (also: fvm COMMAND --help)", NULL},
};

const char *cli_command = "";

const struct cli_entry *cli_entry(size_t i)
{
	return i < sizeof(helps) / sizeof(helps[0]) ? &helps[i] : NULL;
}

int cli_help(const char *name, FILE *out)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		const struct cli_entry *h = &helps[i];
		if (strcmp(h->name, name) != 0) {
			continue;
		}
		fprintf(out, "usage: %s\n\n%s\n\noptions:\n%s  --home DIR             the store (before COMMAND; default $FVM_HOME, else\n"
			     "                         ${XDG_DATA_HOME:-~/.local/share}/fvm)\n"
			     "  -h, --help             this help\n\nexample:\n  %s\n\n"
			     "Exit status: 0 done, 1 refused (see fvm(1)), 2 usage, 3 damaged store, 4 unreachable remote.\n",
			h->synopsis, h->what, h->options, h->example);
		return 0;
	}
	return -1;
}

int cli_usage(const char *problem)
{
	if (problem) {
		fprintf(stderr, "fvm %s: %s\n", cli_command, problem);
	}
	fprintf(stderr, "see fvm %s --help\n", cli_command);
	return FVM_EXIT_USAGE;
}
