/* app.c - a WASI command for `npx kiln run`: prints its arguments and a file it was granted. */
#include <stdio.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) printf("arg %s\n", argv[i]);
  FILE *f = fopen("/data/in.txt", "r");
  if (!f) {
    perror("/data/in.txt");
    return 3;
  }
  char line[128];
  if (fgets(line, sizeof line, f)) printf("read %s", line);
  fclose(f);
  return 0;
}
