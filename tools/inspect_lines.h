/* tools/inspect_lines.h - source lines of code addresses, from the DWARF
 * line table of an executable (libdw), for ckpt-inspect's frames. Only
 * ckpt-inspect links libdw: the runtime, ckpt-cc and ckpt-run do not need
 * it, and the fuzz target does not read executables. */
#ifndef CKPT_INSPECT_LINES_H
#define CKPT_INSPECT_LINES_H

#include <stddef.h>
#include <stdint.h>

/* For each of the N addresses ADDRS[i] of the executable PATH (non-PIE, so
 * the addresses are its own), find the row of its DWARF line table that
 * holds it: LINES[i] is its source line and FILES[i] a malloc'ed copy of its
 * source file's path, or 0 and NULL where no row does (code compiled
 * without debug information). The caller frees the paths. Returns 0, or -1
 * with ERR saying why PATH has no usable line table (without the path) and
 * every entry 0 and NULL. */
int inspect_source_lines(const char *path, const uint64_t *addrs, size_t n,
                         uint32_t *lines, char **files, char *err,
                         size_t errlen);

#endif /* CKPT_INSPECT_LINES_H */
