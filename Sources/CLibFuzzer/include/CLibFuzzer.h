// libFuzzer's driver entry point (compiler-rt), for a fuzz target whose main SwiftPM owns.
// Linked only when the fuzz product is built with -sanitize=fuzzer (scripts/fuzz).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
