/* poll.c - poll_oneoff: relative and absolute clock timeouts sleep at least as requested, a
 * regular file is ready at once for reading and writing, a ready descriptor wins over a long
 * timeout, userdata comes back, bad input gives the right errors. */
#include "check.h"

#include <time.h>

static __wasi_timestamp_t now(void) {
    __wasi_timestamp_t t;
    CHECK_OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t));
    return t;
}

static __wasi_subscription_t clock_sub(__wasi_userdata_t ud, __wasi_clockid_t id,
                                       __wasi_timestamp_t timeout, __wasi_subclockflags_t flags) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = id;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.flags = flags;
    return s;
}

static __wasi_subscription_t fd_sub(__wasi_userdata_t ud, __wasi_eventtype_t type,
                                    __wasi_fd_t fd) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = type;
    s.u.u.fd_read.file_descriptor = fd; /* fd_read and fd_write share the layout */
    return s;
}

static void test_sleep(__wasi_timestamp_t ns) {
    __wasi_subscription_t sub = clock_sub(0x1234567887654321ull, __WASI_CLOCKID_MONOTONIC, ns, 0);
    __wasi_event_t ev;
    size_t n;
    __wasi_timestamp_t start = now();
    CHECK_OK(__wasi_poll_oneoff(&sub, &ev, 1, &n));
    __wasi_timestamp_t slept = now() - start;
    CHECK(n == 1 && ev.userdata == 0x1234567887654321ull && ev.error == 0 &&
          ev.type == __WASI_EVENTTYPE_CLOCK);
    CHECK_MSG(slept >= ns, "asked for %llu ns, slept %llu", (unsigned long long)ns,
              (unsigned long long)slept);
    CHECK_MSG(slept < ns + 2000000000ull, "asked for %llu ns, slept %llu",
              (unsigned long long)ns, (unsigned long long)slept);
}

int main(void) {
    test_sleep(0);
    test_sleep(1000000);   /* 1 ms */
    test_sleep(120000000); /* 120 ms */
    /* absolute deadlines, monotonic and realtime */
    __wasi_timestamp_t deadline = now() + 80000000;
    __wasi_subscription_t sub =
        clock_sub(7, __WASI_CLOCKID_MONOTONIC, deadline, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    __wasi_event_t ev[4];
    size_t n;
    CHECK_OK(__wasi_poll_oneoff(&sub, ev, 1, &n));
    CHECK(n == 1 && ev[0].userdata == 7 && ev[0].error == 0);
    CHECK_MSG(now() >= deadline, "woke %lld ns before the absolute deadline",
              (long long)(deadline - now()));
    __wasi_timestamp_t real;
    CHECK_OK(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &real));
    sub = clock_sub(8, __WASI_CLOCKID_REALTIME, real + 50000000,
                    __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    CHECK_OK(__wasi_poll_oneoff(&sub, ev, 1, &n));
    __wasi_timestamp_t after;
    CHECK_OK(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &after));
    CHECK(n == 1 && ev[0].userdata == 8 && after >= real + 50000000);
    /* a deadline in the past fires at once */
    sub = clock_sub(9, __WASI_CLOCKID_MONOTONIC, 1, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    __wasi_timestamp_t start = now();
    CHECK_OK(__wasi_poll_oneoff(&sub, ev, 1, &n));
    CHECK(n == 1 && ev[0].userdata == 9 && now() - start < 1000000000ull);
    /* libc sleeps go through poll_oneoff too */
    start = now();
    struct timespec ts = {0, 30000000};
    CHECK_LIBC(nanosleep(&ts, NULL) == 0);
    CHECK(now() - start >= 30000000);
    printf("clock subscriptions ok\n");

    /* a regular file is always ready; with a 10 s timeout beside it, poll returns at once */
    __wasi_fd_t dir = root_fd(), file;
    write_file_at(dir, "ready.txt", "0123456789");
    CHECK_OK(open_at(dir, 0, "ready.txt", 0, 0, &file));
    __wasi_subscription_t subs[3] = {
        clock_sub(100, __WASI_CLOCKID_MONOTONIC, 10000000000ull, 0),
        fd_sub(200, __WASI_EVENTTYPE_FD_READ, file),
        fd_sub(300, __WASI_EVENTTYPE_FD_WRITE, file),
    };
    memset(ev, 0, sizeof ev);
    start = now();
    CHECK_OK(__wasi_poll_oneoff(subs, ev, 3, &n));
    CHECK_MSG(now() - start < 5000000000ull, "poll waited for the timeout with a ready file");
    CHECK_MSG(n == 2, "%zu events", n);
    int got_read = 0, got_write = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK_MSG(ev[i].error == 0, "event %llu: errno %d", (unsigned long long)ev[i].userdata,
                  ev[i].error);
        if (ev[i].userdata == 200) {
            got_read = 1;
            CHECK(ev[i].type == __WASI_EVENTTYPE_FD_READ);
            /* bytes available: the file's size from the offset (wasmtime) or unknown */
            CHECK_MSG(ev[i].fd_readwrite.nbytes == 10 || ev[i].fd_readwrite.nbytes == 0 ||
                          ev[i].fd_readwrite.nbytes == 1,
                      "nbytes %llu", (unsigned long long)ev[i].fd_readwrite.nbytes);
        } else if (ev[i].userdata == 300) {
            got_write = 1;
            CHECK(ev[i].type == __WASI_EVENTTYPE_FD_WRITE);
        } else {
            CHECK_MSG(0, "unexpected userdata %llu", (unsigned long long)ev[i].userdata);
        }
    }
    CHECK(got_read && got_write);
    /* stdout is ready for writing */
    subs[0] = fd_sub(400, __WASI_EVENTTYPE_FD_WRITE, 1);
    subs[1] = clock_sub(401, __WASI_CLOCKID_MONOTONIC, 10000000000ull, 0);
    CHECK_OK(__wasi_poll_oneoff(subs, ev, 2, &n));
    CHECK(n >= 1 && ev[0].userdata == 400 && ev[0].error == 0);
    printf("fd subscriptions ok\n");

    /* a closed descriptor is reported in its event, not as poll's own error */
    CHECK_OK(__wasi_fd_close(file));
    subs[0] = fd_sub(500, __WASI_EVENTTYPE_FD_READ, file);
    subs[1] = clock_sub(501, __WASI_CLOCKID_MONOTONIC, 10000000000ull, 0);
    memset(ev, 0, sizeof ev);
    start = now();
    CHECK_OK(__wasi_poll_oneoff(subs, ev, 2, &n));
    CHECK(n >= 1 && ev[0].userdata == 500 && ev[0].error == __WASI_ERRNO_BADF);
    CHECK(now() - start < 5000000000ull);
    /* no subscriptions, an unknown clock, an unknown event type */
    CHECK_ERR(__wasi_poll_oneoff(subs, ev, 0, &n), __WASI_ERRNO_INVAL);
    subs[0] = clock_sub(600, 99, 1000, 0);
    int e = __wasi_poll_oneoff(subs, ev, 1, &n);
    CHECK_MSG(e == __WASI_ERRNO_INVAL || (e == 0 && n == 1 && ev[0].error == __WASI_ERRNO_INVAL),
              "unknown clock: errno %d, event errno %d", e, ev[0].error);
    subs[0] = clock_sub(700, __WASI_CLOCKID_MONOTONIC, 0, 0);
    subs[0].u.tag = 9;
    memset(ev, 0, sizeof ev);
    e = __wasi_poll_oneoff(subs, ev, 1, &n);
    CHECK_MSG(e == __WASI_ERRNO_INVAL || (e == 0 && n == 1 && ev[0].error == __WASI_ERRNO_INVAL),
              "unknown event type: errno %d, event errno %d", e, ev[0].error);
    CHECK_OK(__wasi_path_unlink_file(dir, "ready.txt"));
    CHECK_OK(__wasi_sched_yield());
    printf("poll: all passed\n");
    return 0;
}
