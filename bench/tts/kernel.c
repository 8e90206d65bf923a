/* kernel.c - one kernel of bench/kernels/ as an external function, for tts.c (the guest of
 * bench/time_to_speed.py). Compiled once per kernel, each its own translation unit, with
 *
 *   -I bench/kernels -DTTS_KERNEL=coremark -DTTS_KERNEL_FILE='"coremark.c"'
 *
 * it includes the kernel's source unchanged, renames the kernel's main() out of the way and
 * exports `uint32_t tts_coremark(uint32_t n)`, which returns the kernel's run(n). Being in
 * another translation unit (no LTO), run() is never inlined into the driver's loop, and the
 * compiler cannot see that repeated calls with the same n compute the same value: every
 * iteration of the driver calls it and does the work. */
#define TTS_CAT2(a, b) a##b
#define TTS_CAT(a, b) TTS_CAT2(a, b)

#define main TTS_CAT(tts_unused_main_, TTS_KERNEL)
#include TTS_KERNEL_FILE
#undef main

uint32_t TTS_CAT(tts_, TTS_KERNEL)(uint32_t n);
uint32_t TTS_CAT(tts_, TTS_KERNEL)(uint32_t n) { return run(n); }
