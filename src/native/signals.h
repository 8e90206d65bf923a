/* signals.h - memory faults of compiled code as traps. Linear memories of a guarded engine
 * reserve their whole 32-bit range plus a guard region, so compiled code accesses them with
 * no bounds check; an access outside the accessible part faults. A SIGSEGV/SIGBUS handler,
 * on an alternate signal stack, turns a fault into KILN_TRAP_MEMORY_OUT_OF_BOUNDS only when
 * the faulting instruction is in kiln's compiled code and the address in one of kiln's
 * reservations; every other fault goes to the handler installed before kiln's (or the
 * default action: the process dies as it would have without kiln).
 *
 * The handler looks both up in two fixed registries of ranges, read without locks or
 * allocation (and without thread-local storage). It never unwinds from signal context: it
 * makes the faulting thread continue in native_fault_landing(pc) as if the faulting code had
 * called it, and that raises the trap like any helper. */
#ifndef KILN_NATIVE_SIGNALS_H
#define KILN_NATIVE_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>

#include "kiln.h"

/* Bytes past a guarded memory's 4 GiB that are reserved and never accessible: compiled code
 * checks explicitly only accesses whose static offset plus size exceeds this. */
#define SIGNALS_GUARD_BYTES (2ull << 30)
/* The reservation of a guarded 32-bit memory. */
#define SIGNALS_RESERVATION ((4ull << 30) + SIGNALS_GUARD_BYTES)

typedef enum signals_kind { SIGNALS_CODE = 0, SIGNALS_MEMORY = 1 } signals_kind;

/* Whether guarded memories work here (a 64-bit target with the handler support). */
bool signals_supported(void);
/* Install the handlers (once per process). KILN_ERR_ARGUMENT-free: fails only when
 * sigaction does, with a message. */
kiln_status signals_install(kiln_error *err);
/* Record [start, end) as compiled code or a memory reservation; false when the registry is
 * full. */
bool signals_add(signals_kind kind, uintptr_t start, uintptr_t end);
void signals_remove(signals_kind kind, uintptr_t start);
/* Give the calling thread an alternate signal stack if it has none (kept until it exits). */
void signals_thread_init(void);

/* Provided by native.c: the trap of a faulting access at pc, raised in the faulting thread
 * (outside signal context). */
__attribute__((noreturn)) void native_fault_landing(uintptr_t pc);

#endif
