/* clocks.c - clock_time_get and clock_res_get: realtime near the host's time (the driver passes
 * it in HOST_TIME_NS), monotonic never going back, sane resolutions, bad clock ids. */
#include "check.h"

#include <time.h>

int main(void) {
    __wasi_timestamp_t res, t, prev;
    /* realtime: within a minute of the host's clock when the driver started us */
    const char *host = getenv("HOST_TIME_NS");
    CHECK_MSG(host != NULL, "the driver sets HOST_TIME_NS");
    unsigned long long host_ns = strtoull(host, NULL, 10);
    CHECK_OK(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t));
    CHECK_MSG(t + 60000000000ull > host_ns && t < host_ns + 60000000000ull,
              "realtime %llu, host %llu", (unsigned long long)t, host_ns);
    struct timespec ts;
    CHECK_LIBC(clock_gettime(CLOCK_REALTIME, &ts) == 0);
    CHECK((unsigned long long)ts.tv_sec * 1000000000ull + ts.tv_nsec >= t);
    CHECK(time(NULL) >= (time_t)(host_ns / 1000000000ull) - 60);
    printf("realtime ok\n");

    /* monotonic: never decreasing, advancing over a busy loop */
    CHECK_OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &prev));
    __wasi_timestamp_t first = prev;
    for (int i = 0; i < 100000; i++) {
        CHECK_OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t));
        CHECK_MSG(t >= prev, "monotonic went back: %llu after %llu", (unsigned long long)t,
                  (unsigned long long)prev);
        prev = t;
    }
    CHECK_MSG(prev > first, "monotonic did not advance over 100000 calls");
    CHECK_LIBC(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    CHECK((unsigned long long)ts.tv_sec * 1000000000ull + ts.tv_nsec >= prev);
    printf("monotonic ok\n");

    /* resolutions: positive, at most a second */
    CHECK_OK(__wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res));
    CHECK_MSG(res > 0 && res <= 1000000000ull, "realtime resolution %llu", (unsigned long long)res);
    CHECK_OK(__wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res));
    CHECK_MSG(res > 0 && res <= 1000000000ull, "monotonic resolution %llu",
              (unsigned long long)res);
    CHECK_LIBC(clock_getres(CLOCK_MONOTONIC, &ts) == 0);
    CHECK(ts.tv_sec == 0 || (ts.tv_sec == 1 && ts.tv_nsec == 0));
    printf("resolutions ok\n");

    /* CPU-time clocks: either supported with sane values or refused */
    for (__wasi_clockid_t id = __WASI_CLOCKID_PROCESS_CPUTIME_ID;
         id <= __WASI_CLOCKID_THREAD_CPUTIME_ID; id++) {
        int e = __wasi_clock_time_get(id, 1, &t);
        CHECK_MSG(e == 0 || e == __WASI_ERRNO_INVAL || e == __WASI_ERRNO_NOTSUP ||
                      e == __WASI_ERRNO_BADF,
                  "cputime clock %u: errno %d", id, e);
        e = __wasi_clock_res_get(id, &res);
        CHECK_MSG(e == 0 ? res > 0 : (e == __WASI_ERRNO_INVAL || e == __WASI_ERRNO_NOTSUP ||
                                      e == __WASI_ERRNO_BADF),
                  "cputime clock %u resolution: errno %d", id, e);
    }
    /* unknown clocks */
    CHECK_ERR(__wasi_clock_time_get(4, 1, &t), __WASI_ERRNO_INVAL);
    CHECK_ERR(__wasi_clock_time_get(0xffffffffu, 1, &t), __WASI_ERRNO_INVAL);
    CHECK_ERR(__wasi_clock_res_get(99, &res), __WASI_ERRNO_INVAL);
    printf("clocks: all passed\n");
    return 0;
}
