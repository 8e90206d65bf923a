/* hello.c - the seed's example in C: Node sends "world", C answers "hello world".
 * `kiln build examples/hello-c` compiles it to wasm and writes the JavaScript glue. */
#include <kiln/guest.h>

KILN_EXPORT(string, say, (string, name))
kiln_string say(kiln_string name) {
  return kiln_string_printf("hello %.*s", (int)name.len, name.ptr);
}
