/*
 * Benchmarks of the host-side work, no HSM: SLIP-39 split + combine of a
 * 32-byte KEK (3 of 5), sealing and opening a share at the production Argon2id
 * cost, and transcript appends and verification. Prints one line per
 * measurement: name, operations, seconds, rate, peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ceremony/err.h"
#include "ceremony/seal.h"
#include "ceremony/secret.h"
#include "ceremony/slip39.h"
#include "ceremony/transcript.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void report(const char *name, long n, double secs, const char *unit)
{
	printf("%-34s %8ld ops %9.3f s %12.1f %s/s   peak RSS %ld KiB\n", name, n, secs,
	       (double)n / secs, unit, peak_rss_kib());
}

static int bench_slip39(long n)
{
	struct slip39_group g = {3, 5};
	struct slip39_split_params p = {1, 0, 1, 1, &g};
	uint8_t secret[32], out[64];
	size_t len = 0;
	double t0 = now();

	secret_random(secret, sizeof(secret));
	for (long i = 0; i < n; i++) {
		struct slip39_share_set *set = NULL;
		if (slip39_split(secret, sizeof(secret), "", 0, &p, NULL, &set) != 0 ||
		    slip39_combine_shares(set->shares, 3, "", 0, out, sizeof(out), &len) != 0 ||
		    len != 32 || memcmp(out, secret, 32) != 0) {
			fprintf(stderr, "slip39: %s\n", cer_err_msg(-1));
			return 1;
		}
		slip39_share_set_free(set);
	}
	report("slip39 split+combine 3-of-5 (KEK)", n, now() - t0, "ops");
	return 0;
}

static int bench_seal(long n)
{
	struct seal_limits lim = seal_limits_production();
	struct secret *pass = NULL, *opened = NULL;
	uint8_t share[42], *blob = NULL;
	size_t blob_len = 0;
	double t0 = now();

	if (secret_new(64, &pass) != 0)
		return 1;
	memcpy(pass->data, "a passphrase of some length", 27);
	pass->len = 27;
	secret_random(share, sizeof(share));
	for (long i = 0; i < n; i++) {
		if (seal_share(pass, share, sizeof(share), (const uint8_t *)"meta", 4, &lim, &blob,
			       &blob_len) != 0 ||
		    seal_open(pass, blob, blob_len, &lim, &opened) != 0) {
			fprintf(stderr, "seal: %s\n", cer_err_msg(-1));
			return 1;
		}
		free(blob);
		secret_free(opened);
	}
	report("seal+open share (Argon2id MODERATE)", n, now() - t0, "ops");
	secret_free(pass);
	return 0;
}

static int bench_transcript(long n)
{
	char dir[] = "/tmp/cer-bench-XXXXXX", path[64];
	struct transcript *t = NULL;
	struct transcript_report rep;
	double t0;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/t.jsonl", dir);
	if (transcript_open(path, "bench", &t) != 0)
		return 1;
	t0 = now();
	for (long i = 0; i < n; i++)
		if (transcript_append(t, "bench.step", NULL, NULL, json_pack("{s:I}", "i", (json_int_t)i),
				      NULL) != 0) {
			fprintf(stderr, "append: %s\n", cer_err_msg(-1));
			return 1;
		}
	report("transcript append (fsync each)", n, now() - t0, "records");
	transcript_close(t);
	t0 = now();
	if (transcript_verify(path, NULL, 1, NULL, &rep) != 0 || rep.records != n + 1) {
		fprintf(stderr, "verify: %s\n", cer_err_msg(-1));
		return 1;
	}
	report("transcript verify (chain)", n + 1, now() - t0, "records");
	unlink(path);
	rmdir(dir);
	return 0;
}

int main(void)
{
	if (secret_init() != 0)
		return 1;
	return bench_slip39(200) || bench_seal(3) || bench_transcript(2000);
}
