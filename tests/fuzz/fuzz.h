/**
 * @file fuzz.h  What every fuzz target shares
 *
 * A target is one function, LLVMFuzzerTestOneInput(), that feeds one
 * input to one of our parsers of network input. Built with clang and
 * -fsanitize=fuzzer (scripts/fuzz), libFuzzer drives it; built with the
 * project's compiler (ctest), replay.c's main() feeds it the committed
 * corpus, so every input that once mattered is run by every test run.
 *
 * A target must not leak, must reset any state it makes, and must not
 * print: libFuzzer runs it millions of times in one process.
 */

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (mem_deref it), or NULL */
char *fuzz_str(const uint8_t *data, size_t size);
