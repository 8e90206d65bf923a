/* args_env.c - args_get and environ_get give exactly the bytes the driver passed: UTF-8,
 * spaces, empty strings, '=' inside values, and nothing inherited from the host. */
#include "check.h"

static const char *const want_args[] = {"", "héllo wörld ☃", "", "a b  c", "--dir", "-x=1",
                                        "\xf0\x9f\x90\xb1"};
static const char *const want_env[] = {"EMPTY=", "UTF8=ünïcødé ☃", "EQ=a=b=c", "SPACE= x ",
                                       "Z=last"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int main(int argc, char **argv) {
    /* libc's view */
    CHECK_MSG((size_t)argc == COUNT(want_args) + 1, "argc %d", argc);
    CHECK(strstr(argv[0], "args_env") != NULL);
    for (size_t i = 0; i < COUNT(want_args); i++)
        CHECK_MSG(strcmp(argv[i + 1], want_args[i]) == 0, "argv[%zu] is \"%s\"", i + 1,
                  argv[i + 1]);
    CHECK(argv[argc] == NULL);
    printf("argv ok\n");

    /* raw: sizes agree with the strings */
    size_t count, size;
    CHECK_OK(__wasi_args_sizes_get(&count, &size));
    size_t want_size = strlen(argv[0]) + 1;
    for (size_t i = 0; i < COUNT(want_args); i++) want_size += strlen(want_args[i]) + 1;
    CHECK(count == COUNT(want_args) + 1 && size == want_size);
    uint8_t *ptrs[16], buf[512];
    CHECK(count < 16 && size < sizeof buf);
    memset(buf, 0xaa, sizeof buf);
    CHECK_OK(__wasi_args_get(ptrs, buf));
    CHECK(ptrs[0] == buf && buf[size] == 0xaa && buf[size - 1] == 0);
    for (size_t i = 1; i < count; i++) CHECK(strcmp((char *)ptrs[i], want_args[i - 1]) == 0);

    /* the environment: exactly these, in this order (the driver passes them so) */
    CHECK_OK(__wasi_environ_sizes_get(&count, &size));
    want_size = 0;
    for (size_t i = 0; i < COUNT(want_env); i++) want_size += strlen(want_env[i]) + 1;
    CHECK_MSG(count == COUNT(want_env), "%zu environment variables", count);
    CHECK_MSG(size == want_size, "environment of %zu bytes, expected %zu", size, want_size);
    memset(buf, 0xaa, sizeof buf);
    CHECK_OK(__wasi_environ_get(ptrs, buf));
    CHECK(buf[size] == 0xaa);
    for (size_t i = 0; i < count; i++) {
        int found = 0;
        for (size_t j = 0; j < COUNT(want_env); j++) found |= strcmp((char *)ptrs[i], want_env[j]) == 0;
        CHECK_MSG(found, "unexpected environment entry \"%s\"", (char *)ptrs[i]);
    }
    CHECK(getenv("PATH") == NULL && getenv("HOME") == NULL);
    CHECK(getenv("EMPTY") && strcmp(getenv("EMPTY"), "") == 0);
    CHECK(getenv("EQ") && strcmp(getenv("EQ"), "a=b=c") == 0);
    CHECK(getenv("UTF8") && strcmp(getenv("UTF8"), "ünïcødé ☃") == 0);
    printf("environ ok\n");
    printf("args_env: all passed\n");
    return 0;
}
