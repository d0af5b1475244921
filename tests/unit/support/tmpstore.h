/**
 * @file tmpstore.h  An event store in a temporary directory, for tests
 */

int  tmpstore_open(struct evstore **esp, char *dir, size_t sz);
void tmpstore_remove(const char *dir);
