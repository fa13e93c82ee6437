/* SPDX-License-Identifier: ISC */
/*
 * hdrdecode.c -- read an HdrHistogram interval log that loadd wrote and
 * decode every interval with hdr_decode_base64, for the integration tests.
 * Prints one JSON line: intervals, tags, total count, max in us, and the
 * p50 and p99 of all the intervals added together, in us.  Exits 1 with
 * FILE:LINE on a line that does not decode.
 *
 * loadd-hdrdecode -u: standard input is base64 histograms, one a line
 * (as `histogram` answers them); prints the union's count and p50, p90,
 * p99 and p99.9 in us, for t_fleet to check the fleet's merge against.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/hdrlog.h"
#include "measure/hist.h"

static int
union_main(void)
{
	struct hist	*u = malloc(sizeof(*u)), *h = malloc(sizeof(*h));
	char		*line = NULL, err[256];
	size_t		 cap = 0;
	ssize_t		 n;
	long		 lineno = 0;

	if (u == NULL || h == NULL)
		return 2;
	hist_reset(u);
	while ((n = getline(&line, &cap, stdin)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (hdr_decode_base64(line, h, err, sizeof(err)) == -1) {
			fprintf(stderr, "stdin:%ld: %s\n", lineno, err);
			return 1;
		}
		hist_add(u, h);
	}
	printf("{\"count\":%llu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
	    "\"p99.9\":%.1f}\n", (unsigned long long)u->total,
	    (double)hist_percentile(u, 50) / 1e3,
	    (double)hist_percentile(u, 90) / 1e3,
	    (double)hist_percentile(u, 99) / 1e3,
	    (double)hist_percentile(u, 99.9) / 1e3);
	free(line);
	free(u);
	free(h);
	return 0;
}

int
main(int argc, char *argv[])
{
	FILE		*f;
	char		*line = NULL, err[256], tags[1024] = "";
	size_t		 cap = 0;
	ssize_t		 n;
	long		 lineno = 0, intervals = 0;
	uint64_t	 total = 0, max = 0;
	struct hist	*h = malloc(sizeof(*h)), *all = malloc(sizeof(*all));

	if (argc == 2 && strcmp(argv[1], "-u") == 0) {
		free(h);
		free(all);
		return union_main();
	}
	if (argc != 2 || h == NULL || all == NULL) {
		fprintf(stderr, "usage: loadd-hdrdecode FILE.hlog | -u\n");
		return 2;
	}
	if ((f = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	hist_reset(all);
	while ((n = getline(&line, &cap, f)) != -1) {
		char	*fields[5], *p = line, *tag = NULL;
		int	 nf = 0;

		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (line[0] == '#' || line[0] == '"' || line[0] == '\0')
			continue;
		if (strncmp(p, "Tag=", 4) == 0) {
			tag = p + 4;
			if ((p = strchr(p, ',')) == NULL)
				goto bad;
			*p++ = '\0';
		}
		while (nf < 4 && p != NULL) {
			fields[nf++] = p;
			if ((p = strchr(p, ',')) != NULL)
				*p++ = '\0';
		}
		if (nf != 4) {
			snprintf(err, sizeof(err), "expected 4 fields");
			goto bad;
		}
		if (hdr_decode_base64(fields[3], h, err, sizeof(err)) == -1)
			goto bad;
		intervals++;
		total += h->total;
		hist_add(all, h);
		if (h->total > 0 && hist_percentile(h, 100) > max)
			max = hist_percentile(h, 100);
		if (tag != NULL && strstr(tags, tag) == NULL &&
		    strlen(tags) + strlen(tag) + 2 < sizeof(tags)) {
			if (tags[0] != '\0')
				strcat(tags, ",");
			strcat(tags, tag);
		}
	}
	printf("{\"intervals\":%ld,\"tags\":\"%s\",\"count\":%llu,"
	    "\"max_us\":%.1f,\"p50_us\":%.3f,\"p99_us\":%.3f}\n", intervals,
	    tags, (unsigned long long)total, (double)max / 1e3,
	    (double)hist_percentile(all, 50) / 1e3,
	    (double)hist_percentile(all, 99) / 1e3);
	free(line);
	free(h);
	free(all);
	fclose(f);
	return 0;
bad:
	fprintf(stderr, "%s:%ld: %s\n", argv[1], lineno, err);
	return 1;
}
