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
