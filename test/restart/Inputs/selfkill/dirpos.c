/* A directory stream open across the checkpoint continues where it was. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "common.h"
int main(void) {
  mkdir("d", 0755);
  for (int i = 0; i < 6; i++) {
    char name[32];
    snprintf(name, sizeof name, "d/file%d", i);
    FILE *f = fopen(name, "w");
    if (f)
      fclose(f);
  }
  DIR *d = opendir("d");
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    printf("%s\n", e->d_name);
    if (++n == 2)
      CHECKPOINT_AND_DIE();
  }
  closedir(d);
  printf("total %d\n", n);
  return 0;
}
