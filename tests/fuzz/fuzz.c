/**
 * @file fuzz.c  Helpers the fuzz targets share
 */

#include <string.h>
#include <re.h>
#include "fuzz.h"


/** The input as a C string: libFuzzer's buffers are not terminated */
char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = mem_alloc(size + 1, NULL);

	if (!s)
		return NULL;

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';

	return s;
}
