/* random.c - random_get fills buffers of any size with bytes that look random. */
#include "check.h"

#include <unistd.h>

static unsigned char big[1 << 20];

int main(void) {
    unsigned char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK_OK(__wasi_random_get(a, sizeof a));
    CHECK_OK(__wasi_random_get(b, sizeof b));
    CHECK(memcmp(a, b, sizeof a) != 0);
    int zeros = 0;
    for (size_t i = 0; i < sizeof a; i++) zeros += a[i] == 0;
    CHECK_MSG(zeros < 16, "%d zero bytes of 64", zeros);
    CHECK_OK(__wasi_random_get(a, 0));

    /* a megabyte: every byte value appears, none dominates */
    CHECK_OK(__wasi_random_get(big, sizeof big));
    static unsigned counts[256];
    for (size_t i = 0; i < sizeof big; i++) counts[big[i]]++;
    for (int v = 0; v < 256; v++)
        CHECK_MSG(counts[v] > 3000 && counts[v] < 5200, "byte %d appears %u times", v, counts[v]);
    /* the tail of the buffer was written too */
    int tail_zeros = 0;
    for (size_t i = sizeof big - 64; i < sizeof big; i++) tail_zeros += big[i] == 0;
    CHECK(tail_zeros < 16);
    unsigned int x;
    CHECK_LIBC(getentropy(&x, sizeof x) == 0);
    printf("random: all passed\n");
    return 0;
}
