/*
 * fuzz_config.c — the INI reader of fvm.conf and vm.conf (exec_config_read, the function
 * fvm-exec calls), fed the input as a file.
 *
 * Invariants: no crash, no sanitizer report, for any bytes. A file that reads without
 * error yields the effective vm.conf text that fvm-exec writes (exec_config_write);
 * that text reads back without error, and reading it back yields the same text: a
 * VM's vm.conf, once written, is always accepted on its next run and means the same.
 */
#include "fuzz.h"

#include "run/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_init_messages();
	setenv("HOME", "/home/fuzz", 1); /* "~/..." values expand against it */
	return 0;
}

/* The vm.conf text of C, malloc'd (the caller frees it). */
static char *vmconf_text(const struct exec_config *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f) {
		abort();
	}
	exec_config_write(c, f, false);
	fclose(f);
	return text;
}

/* Reads TEXT (LEN) as a file for VM into a fresh C; returns exec_config_read's answer. */
static int read_text(struct exec_config *c, const uint8_t *text, size_t len, const char *vm)
{
	char path[64];
	int fd = fuzz_memfd(text, len), r;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	exec_config_init(c);
	r = exec_config_read(c, path, vm, false, false, false); /* a memfd: through /proc */
	close(fd);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exec_config c, again;
	static struct exec_settings s;
	char *text, *text2;
	size_t len, len2;

	if (read_text(&c, data, size, "fz") < 0) {
		exec_config_free(&c);
		return 0;
	}
	exec_settings_build(&c, &s);
	text = vmconf_text(&c, &len);
	if (read_text(&again, (const uint8_t *)text, len, "fz") < 0) {
		fuzz_fail(__FILE__, __LINE__, "vm.conf as written does not read back:\n%s", text);
	}
	text2 = vmconf_text(&again, &len2);
	if (len != len2 || memcmp(text, text2, len) != 0) {
		fuzz_fail(__FILE__, __LINE__, "vm.conf changes when read back:\n%s---\n%s", text, text2);
	}
	free(text);
	free(text2);
	exec_config_free(&again);
	exec_config_free(&c);
	return 0;
}
