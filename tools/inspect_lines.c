/* tools/inspect_lines.c - source lines of code addresses from an
 * executable's DWARF line table, through libdw (elfutils).
 *
 * ckpt-cc compiles with -gline-tables-only, so every compile unit of the
 * program has a line table and its code ranges, but clang writes no
 * .debug_aranges, the index dwarf_addrdie searches. The compile units'
 * address ranges are therefore collected here (DW_AT_low_pc/high_pc or
 * DW_AT_ranges of each unit), and an address is looked up in its unit's line
 * table with dwarf_getsrc_die. */
#include "inspect_lines.h"
#include "inspect_decode.h"

#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Code addresses [lo, hi) of compile unit number UNIT. */
struct unit_range {
  uint64_t lo, hi;
  size_t unit;
};

/* What the executable's compile units cover, sorted by lo. */
struct unit_index {
  Dwarf_Die *units; /* compile unit DIEs (valid while the Dwarf is open) */
  size_t nunits, units_cap;
  struct unit_range *ranges;
  size_t nranges, ranges_cap;
};

static int cmp_range(const void *a, const void *b) {
  const struct unit_range *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void index_free(struct unit_index *ix) {
  free(ix->units);
  free(ix->ranges);
  memset(ix, 0, sizeof *ix);
}

/* Collect every unit's code ranges. Units without code (type units, units
 * of data only) have none and are kept only as unused entries. */
static int index_units(Dwarf *dbg, struct unit_index *ix, char *err,
                       size_t errlen) {
  Dwarf_CU *cu = NULL;
  Dwarf_Half version;
  uint8_t unit_type;
  Dwarf_Die cudie;
  int rc;
  while ((rc = dwarf_get_units(dbg, cu, &cu, &version, &unit_type, &cudie,
                               NULL)) == 0) {
    if (grow_array(&ix->units, &ix->units_cap, ix->nunits + 1, sizeof *ix->units))
      goto nomem;
    size_t unit = ix->nunits++;
    ix->units[unit] = cudie;
    Dwarf_Addr base, start, end;
    ptrdiff_t off = 0;
    while ((off = dwarf_ranges(&cudie, off, &base, &start, &end)) > 0) {
      if (start >= end)
        continue;
      if (grow_array(&ix->ranges, &ix->ranges_cap, ix->nranges + 1,
               sizeof *ix->ranges))
        goto nomem;
      ix->ranges[ix->nranges++] = (struct unit_range){start, end, unit};
    }
  }
  if (rc < 0) {
    snprintf(err, errlen, "has a damaged DWARF line table: %s",
             dwarf_errmsg(-1));
    return -1;
  }
  if (ix->nranges == 0) {
    snprintf(err, errlen, "has no DWARF line table for its code");
    return -1;
  }
  qsort(ix->ranges, ix->nranges, sizeof *ix->ranges, cmp_range);
  return 0;
nomem:
  snprintf(err, errlen, "cannot be read: out of memory");
  return -1;
}

/* The compile unit whose code holds ADDR, or NULL. */
static Dwarf_Die *unit_of(const struct unit_index *ix, uint64_t addr) {
  size_t lo = 0, hi = ix->nranges; /* find the last range with lo <= addr */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->ranges[mid].lo <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0 || addr >= ix->ranges[lo - 1].hi)
    return NULL;
  return &ix->units[ix->ranges[lo - 1].unit];
}

int inspect_source_lines(const char *path, const uint64_t *addrs, size_t n,
                         uint32_t *lines, char **files, char *err,
                         size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    lines[i] = 0;
    files[i] = NULL;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot be opened: %s", strerror(errno));
    return -1;
  }
  Dwarf *dbg = dwarf_begin(fd, DWARF_C_READ);
  if (!dbg) {
    snprintf(err, errlen, "has no DWARF line table: %s", dwarf_errmsg(-1));
    close(fd);
    return -1;
  }
  struct unit_index ix = {0};
  int rc = index_units(dbg, &ix, err, errlen);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    Dwarf_Die *unit = unit_of(&ix, addrs[i]);
    Dwarf_Line *row = unit ? dwarf_getsrc_die(unit, addrs[i]) : NULL;
    int lineno;
    const char *src = row ? dwarf_linesrc(row, NULL, NULL) : NULL;
    if (!src || dwarf_lineno(row, &lineno) != 0 || lineno <= 0)
      continue;
    files[i] = strdup(src);
    if (!files[i]) {
      snprintf(err, errlen, "cannot be read: out of memory");
      rc = -1;
      break;
    }
    lines[i] = (uint32_t)lineno;
  }
  if (rc < 0)
    for (size_t i = 0; i < n; i++) {
      free(files[i]);
      files[i] = NULL;
      lines[i] = 0;
    }
  index_free(&ix);
  dwarf_end(dbg);
  close(fd);
  return rc;
}
