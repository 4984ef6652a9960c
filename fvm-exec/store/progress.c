/*
 * progress.c — a progress line on a terminal's stderr (progress.h).
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "store/progress.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void draw(const struct progress *p)
{
	fprintf(stderr, "\r%s: %zu/%zu (%zu%%)", p->what, p->done, p->total,
		p->total ? p->done * 100 / p->total : 100);
}

void progress_start(struct progress *p, const char *what, size_t total)
{
	p->what = what;
	p->total = total;
	p->done = 0;
	p->on = total > PROGRESS_THRESHOLD && isatty(STDERR_FILENO);
	p->last_ms = 0;
}

void progress_step(struct progress *p)
{
	p->done++;
	if (p->on) {
		long long t = now_ms();
		if (t - p->last_ms >= 100) {
			p->last_ms = t;
			draw(p);
		}
	}
}

void progress_end(struct progress *p)
{
	if (p->on) {
		draw(p);
		fputs("\r\033[K", stderr);
	}
	p->on = false;
}

static void human(unsigned long long n, char *out, size_t len)
{
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	unsigned u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void draw_bytes(const struct progress_bytes *p, long long t)
{
	char done[32], rate[32], eta[32] = "";
	double secs = (double)(t - p->start_ms) / 1000.0;
	double bps = secs > 0 ? (double)p->bytes / secs : 0;

	human(p->bytes, done, sizeof(done));
	human((unsigned long long)bps, rate, sizeof(rate));
	if (p->total > p->bytes && bps > 0) {
		snprintf(eta, sizeof(eta), ", ETA %.0fs", (double)(p->total - p->bytes) / bps);
	}
	fprintf(stderr, "\r\033[K%s: %llu files, %s, %s/s%s", p->what, p->files, done, rate, eta);
}

void progress_bytes_start(struct progress_bytes *p, const char *what, unsigned long long total, bool on)
{
	p->what = what;
	p->total = total;
	p->bytes = p->files = 0;
	p->on = on && isatty(STDERR_FILENO);
	p->start_ms = now_ms();
	p->last_ms = p->start_ms;
}

void progress_bytes(struct progress_bytes *p, unsigned long long files, unsigned long long bytes)
{
	p->files = files;
	p->bytes = bytes;
	if (p->on) {
		long long t = now_ms();
		if (t - p->last_ms >= 100) {
			p->last_ms = t;
			draw_bytes(p, t);
		}
	}
}

void progress_bytes_end(struct progress_bytes *p)
{
	if (p->on) {
		fputs("\r\033[K", stderr);
	}
	p->on = false;
}
