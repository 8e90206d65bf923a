/* check.h - the small check helpers the unit tests share: CHECK counts passes and prints
 * each failure with its place; the test's main() prints "N passed, N failed". */
#ifndef KILN_TEST_CHECK_H
#define KILN_TEST_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kiln.h"

static int passed, failed;

static inline bool check_(bool ok, const char *what, const char *file, int line) {
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL %s:%d: %s\n", file, line, what);
  }
  return ok;
}
#define CHECK(cond) check_((cond), #cond, __FILE__, __LINE__)
/* CHECK that a call returned want; on failure also print the error message. */
#define CHECK_STATUS(st, want, err)                                                            \
  do {                                                                                         \
    kiln_status st_ = (st);                                                                    \
    if (!check_(st_ == (want), #st " == " #want, __FILE__, __LINE__))                          \
      printf("     got %s: %s\n", kiln_status_string(st_), (err).message);                     \
  } while (0)
static inline void check_contains_(const char *text, const char *part, const char *file, int line) {
  char what[160];
  snprintf(what, sizeof what, "\"%s\" in the message", part);
  if (!check_(strstr(text, part) != NULL, what, file, line)) printf("     message: %s\n", text);
}
#define CHECK_CONTAINS(text, part) check_contains_((text), (part), __FILE__, __LINE__)

static inline void group(const char *what) { printf("-- %s\n", what); }

#endif /* KILN_TEST_CHECK_H */
