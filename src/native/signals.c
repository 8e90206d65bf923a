/* signals.c - memory faults of compiled code as traps (see signals.h). */
#define _GNU_SOURCE
#include "native/signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "base/error.h"

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#define SIGNALS_SUPPORTED 1
#else
#define SIGNALS_SUPPORTED 0
#endif

/* ------------------------------------------------------------------ registries */

/* Slots of [start, end) ranges. A slot is free when start is 0 and being filled when it is
 * CLAIMED; the handler reads slots below `top` with plain atomic loads. */
#define REGION_MAX 65536
#define CLAIMED ((uintptr_t)1)

typedef struct region {
  _Atomic uintptr_t start, end;
} region;

static region regions[2][REGION_MAX];
static _Atomic uint32_t region_top[2];

bool signals_add(signals_kind kind, uintptr_t start, uintptr_t end) {
  region *r = regions[kind];
  for (uint32_t i = 0; i < REGION_MAX; i++) {
    uintptr_t expected = 0;
    if (atomic_load_explicit(&r[i].start, memory_order_relaxed) != 0 ||
        !atomic_compare_exchange_strong(&r[i].start, &expected, CLAIMED))
      continue;
    atomic_store(&r[i].end, end);
    atomic_store(&r[i].start, start);
    uint32_t top = atomic_load(&region_top[kind]);
    while (top < i + 1 && !atomic_compare_exchange_weak(&region_top[kind], &top, i + 1)) {
    }
    return true;
  }
  return false;
}

void signals_remove(signals_kind kind, uintptr_t start) {
  region *r = regions[kind];
  uint32_t top = atomic_load(&region_top[kind]);
  for (uint32_t i = 0; i < top; i++)
    if (atomic_load(&r[i].start) == start) {
      atomic_store(&r[i].end, 0);
      atomic_store(&r[i].start, 0);
      return;
    }
}

#if SIGNALS_SUPPORTED
static bool lookup(signals_kind kind, uintptr_t addr) {
  const region *r = regions[kind];
  uint32_t top = atomic_load(&region_top[kind]);
  for (uint32_t i = 0; i < top; i++) {
    uintptr_t start = atomic_load(&r[i].start);
    if (start > CLAIMED && addr >= start && addr < atomic_load(&r[i].end)) return true;
  }
  return false;
}
#endif

/* ------------------------------------------------------------------ the handler */

bool signals_supported(void) { return SIGNALS_SUPPORTED; }

#if SIGNALS_SUPPORTED
static struct sigaction previous[2]; /* SIGSEGV, SIGBUS: the handlers before kiln's */
static struct sigaction default_action;

static uintptr_t context_pc(const ucontext_t *uc) {
#if defined(__x86_64__)
  return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#else
  return (uintptr_t)uc->uc_mcontext.pc;
#endif
}

/* Continue the faulting thread in native_fault_landing(pc), called from the faulting
 * instruction: the frame-pointer chain then runs from the landing through the faulting
 * function, as for a helper call. The faulting frame is never returned to. */
static void redirect(ucontext_t *uc, uintptr_t pc) {
#if defined(__x86_64__)
  uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
  sp = ((sp - 128) & ~(uintptr_t)15) - 8; /* below the red zone; aligned as after a call */
  *(uintptr_t *)sp = pc;                   /* the return address */
  uc->uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
  uc->uc_mcontext.gregs[REG_RDI] = (greg_t)pc;
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)native_fault_landing;
#else
  uc->uc_mcontext.sp &= ~(uint64_t)15;
  uc->uc_mcontext.regs[30] = pc; /* the link register: the return address */
  uc->uc_mcontext.regs[0] = pc;
  uc->uc_mcontext.pc = (uint64_t)(uintptr_t)native_fault_landing;
#endif
}

static void on_fault(int sig, siginfo_t *info, void *context) {
  ucontext_t *uc = context;
  uintptr_t pc = context_pc(uc);
  if (lookup(SIGNALS_CODE, pc) && lookup(SIGNALS_MEMORY, (uintptr_t)info->si_addr)) {
    redirect(uc, pc);
    return;
  }
  /* not kiln's: whoever handled it before kiln, or the default action (the instruction
   * faults again on return and the process dies of it) */
  const struct sigaction *prev = &previous[sig == SIGBUS];
  if (prev->sa_flags & SA_SIGINFO) {
    prev->sa_sigaction(sig, info, context);
  } else if (prev->sa_handler == SIG_DFL || prev->sa_handler == SIG_IGN) {
    sigaction(sig, &default_action, NULL);
  } else {
    prev->sa_handler(sig);
  }
}

/* ------------------------------------------------------------------ installation */

#define ALTSTACK_BYTES (64u << 10)

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_errno;
static pthread_key_t altstack_key;
static __thread bool altstack_checked;

static void altstack_free(void *stack) {
  stack_t off;
  memset(&off, 0, sizeof off);
  off.ss_flags = SS_DISABLE;
  sigaltstack(&off, NULL);
  munmap(stack, ALTSTACK_BYTES);
}

static void install(void) {
  if (pthread_key_create(&altstack_key, altstack_free) != 0) {
    install_errno = EAGAIN;
    return;
  }
  memset(&default_action, 0, sizeof default_action);
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &previous[0]) != 0 || sigaction(SIGBUS, &sa, &previous[1]) != 0) install_errno = errno;
}

kiln_status signals_install(kiln_error *err) {
  pthread_once(&install_once, install);
  if (install_errno)
    return error_set(err, KILN_ERR_NOMEM, "cannot install the memory fault handler: %s", strerror(install_errno));
  return KILN_OK;
}

void signals_thread_init(void) {
  if (altstack_checked) return;
  altstack_checked = true;
  stack_t old;
  if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE)) return; /* it has one */
  void *p = mmap(NULL, ALTSTACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = p;
  ss.ss_size = ALTSTACK_BYTES;
  if (sigaltstack(&ss, NULL) != 0 || pthread_setspecific(altstack_key, p) != 0) {
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    munmap(p, ALTSTACK_BYTES);
  }
}
#else
kiln_status signals_install(kiln_error *err) {
  return error_set(err, KILN_ERR_ARGUMENT, "guarded memories are not supported on this platform");
}
void signals_thread_init(void) {}
#endif
