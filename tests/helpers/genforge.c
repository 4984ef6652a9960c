/*
 * genforge — a hostile VM process that forges the VM's generation counters (issue 14,
 * tests/security/t_virt_cache_forge.sh). Dynamic: libfvm maps the VM's ROOT/state into
 * every process it enters (init.c, MAP_SHARED, writable), so the counters are plain
 * memory here; no system call is needed to move them.
 *
 *   genforge get          prints the two counters (lookups, names)
 *   genforge set G N      stores G and N into them
 *
 * Exits 2 when no state file is mapped (not in a VM, or libfvm not loaded).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The address of the mapping of a file named ".../state", or NULL. */
static uint64_t *state_map(void)
{
	char line[4096];
	FILE *f;
	uint64_t *at = NULL;
	struct stat st;

	stat("/", &st); /* libfvm attaches on its first call at the latest */
	if (!(f = fopen("/proc/self/maps", "re"))) {
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		unsigned long lo;
		if (n && line[n - 1] == '\n') {
			line[--n] = '\0';
		}
		if (n > 6 && strcmp(line + n - 6, "/state") == 0 && sscanf(line, "%lx-", &lo) == 1 &&
		    strstr(line, " rw")) {
			at = (uint64_t *)lo;
			break;
		}
	}
	fclose(f);
	return at;
}

int main(int argc, char **argv)
{
	uint64_t *w = state_map();

	if (!w) {
		fprintf(stderr, "genforge: no state mapping\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "get") == 0) {
		printf("%" PRIu64 " %" PRIu64 "\n", __atomic_load_n(&w[0], __ATOMIC_ACQUIRE),
		       __atomic_load_n(&w[1], __ATOMIC_ACQUIRE));
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "set") == 0) {
		__atomic_store_n(&w[0], strtoull(argv[2], NULL, 10), __ATOMIC_RELEASE);
		__atomic_store_n(&w[1], strtoull(argv[3], NULL, 10), __ATOMIC_RELEASE);
		return 0;
	}
	fprintf(stderr, "usage: genforge get | set G N\n");
	return 1;
}
