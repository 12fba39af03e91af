/* What the C hosts of tests/c_host.rs share: counted checks that print the holoid error on
 * failure, and reading a whole file. Test support, not part of the ABI. */
#ifndef HOLOID_TEST_CHECK_H
#define HOLOID_TEST_CHECK_H

#include "holoid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0;
static int failures = 0;

#define CHECK(cond, ...)                                                              \
  do {                                                                                \
    checks++;                                                                         \
    if (!(cond)) {                                                                    \
      failures++;                                                                     \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                            \
      fprintf(stderr, __VA_ARGS__);                                                   \
      fprintf(stderr, " (last error: %s)\n", holoid_last_error());                    \
    }                                                                                 \
  } while (0)

#define EXPECT(call, want)                                                            \
  do {                                                                                \
    HoloidStatus got_ = (call);                                                       \
    CHECK(got_ == (want), "%s returned %s, expected %s", #call,                       \
          holoid_status_name((int32_t)got_), holoid_status_name((int32_t)(want)));    \
  } while (0)


static inline unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}
static inline void write_file(const char *dir, const char *name, const unsigned char *buf, size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(2);
  }
}

#define EXPECT_ERROR_MENTIONS(text)                                                   \
  CHECK(strstr(holoid_last_error(), (text)) != NULL, "last error lacks \"%s\"", (text))

#endif
