/* late.c - a ckpt-cc plugin first opened after a restart: its constructor
 * runs then (once), and a checkpoint taken while it is open restarts. */
#include <stdio.h>

static int calls;

__attribute__((constructor)) static void late_init(void) {
  printf("late: constructor\n");
}

int late_value(void) { return ++calls * 100; }
