/* error.h - filling kiln_error values: the one way library code reports failure. */
#ifndef KILN_ERROR_H
#define KILN_ERROR_H

#include "kiln.h"

/* Set err (may be NULL) to status with a printf-style message; returns status. */
kiln_status error_set(kiln_error *err, kiln_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Set err to a trap of the given kind with a message; returns KILN_ERR_TRAP. */
kiln_status error_trap(kiln_error *err, kiln_trap_kind kind, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Put "prefix: " in front of err's message (used to add context, e.g. "function 3"). */
void error_prefix(kiln_error *err, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
