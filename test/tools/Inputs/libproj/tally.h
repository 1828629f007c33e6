/* tally.h - a small library the build-system tests build shared (their
 * default) and static with CC=ckpt-cc. */
#ifndef TALLY_H
#define TALLY_H

extern long tally_total; /* characters counted so far */

void tally_add(const char *word);
/* "N words, T chars, longest W": the library's state as text. */
const char *tally_report(void);

#endif
