/* wasi.c - placeholder while WASI preview1 is written (see kiln.h, "WASI preview1"). */
#include "kiln.h"
