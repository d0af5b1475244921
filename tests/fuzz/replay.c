/**
 * @file replay.c  Run a fuzz target over files, without libFuzzer
 *
 * Usage: <target> FILE|DIR ...   every file (a directory's files, not
 * recursively) is one input. Exits 0 when all ran; a crash or a
 * sanitizer (valgrind, in ctest) fails it.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz.h"


static int run_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;
	FILE *f;
	int err = 0;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st)) {
		perror(path);
		err = 1;
		goto out;
	}

	len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (!buf || fread(buf, 1, len, f) != len) {
		perror(path);
		err = 1;
		goto out;
	}

	(void)LLVMFuzzerTestOneInput(buf, len);

 out:
	free(buf);
	if (f)
		fclose(f);

	return err;
}


static int run_dir(const char *dir, unsigned *np)
{
	struct dirent **namev = NULL;
	char path[4096];
	int n, i, err = 0;

	/* sorted, so that a run is the same run every time */
	n = scandir(dir, &namev, NULL, alphasort);
	if (n < 0) {
		perror(dir);
		return 1;
	}

	for (i = 0; i < n; i++) {
		if (namev[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 namev[i]->d_name);
			err |= run_file(path);
			++*np;
		}
		free(namev[i]);
	}
	free(namev);

	return err;
}


int main(int argc, char *argv[])
{
	unsigned n = 0;
	int i, err = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR ...\n", argv[0]);
		return 2;
	}

	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st)) {
			perror(argv[i]);
			err = 1;
		}
		else if (S_ISDIR(st.st_mode)) {
			err |= run_dir(argv[i], &n);
		}
		else {
			err |= run_file(argv[i]);
			++n;
		}
	}

	printf("%s: %u inputs replayed\n", argv[0], n);

	return err;
}
