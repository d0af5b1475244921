/**
 * @file tmpstore.c  An event store in a fresh temporary directory
 */

#include <unistd.h>
#include "unit.h"
#include "sipphone.h"
#include "tmpstore.h"


/** Open a store in a new directory under /tmp; dir gets its path */
int tmpstore_open(struct evstore **esp, char *dir, size_t sz)
{
	char path[256];

	if (re_snprintf(dir, sz, "/tmp/sipphone-unit-XXXXXX") < 0 ||
	    !mkdtemp(dir))
		return EIO;

	re_snprintf(path, sizeof(path), "%s/events.db", dir);

	return evstore_open(esp, path, 1000, 86400);
}


/** Remove what a store left in its directory, then the directory */
void tmpstore_remove(const char *dir)
{
	static const char *const files[] = {
		"events.db", "events.db-wal", "events.db-shm"
	};
	char path[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		re_snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}
