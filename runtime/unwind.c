/* runtime/unwind.c - a DWARF CFI unwinder for the executable's own frames:
 * .eh_frame_hdr lookup, CIE/FDE parsing, the CFA program, one step at a
 * time (see unwind.h for the contract).
 *
 * Why not libgcc's or libunwind's unwinder: they allocate or lock on first
 * use of an object (and the runtime's malloc is the checkpointed heap), they
 * unwind through every loaded object while we must stop at the first frame
 * that is not the executable's, and they only walk the calling thread. This
 * one is small because it needs only what C compilers emit for x86-64
 * functions: a CFA of register + offset, and save slots or register copies
 * for the callee-saved registers and the return address. DWARF expressions
 * (in PLT entries and gcc's stack-realigned main) answer NO_INFO.
 *
 * Every read of .eh_frame_hdr/.eh_frame goes through a bounded cursor over
 * the PT_LOAD segment it lies in, so corrupt CFI ends a step with NO_INFO
 * instead of a fault. Stack reads are bounded by the caller's [lo, hi).
 */
#include "unwind.h"

#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>

/* ---- DWARF constants --------------------------------------------------------
 * Pointer encodings (DW_EH_PE_*, LSB "Exception Frames"): the low nibble is
 * the format, bits 4-6 what it is relative to, bit 7 an indirection. */
enum {
  PE_ABSPTR = 0x00,
  PE_ULEB128 = 0x01,
  PE_UDATA2 = 0x02,
  PE_UDATA4 = 0x03,
  PE_UDATA8 = 0x04,
  PE_SLEB128 = 0x09,
  PE_SDATA2 = 0x0a,
  PE_SDATA4 = 0x0b,
  PE_SDATA8 = 0x0c,
  PE_FORMAT_MASK = 0x0f,
  PE_PCREL = 0x10,
  PE_DATAREL = 0x30,
  PE_APPLICATION_MASK = 0x70,
  PE_INDIRECT = 0x80,
  PE_OMIT = 0xff,
};

/* Call frame instructions (DWARF 5 section 6.4.2, plus GNU extensions). The
 * first three carry an operand in their low 6 bits. */
enum {
  CFA_advance_loc = 0x40,
  CFA_offset = 0x80,
  CFA_restore = 0xc0,
  CFA_nop = 0x00,
  CFA_set_loc = 0x01,
  CFA_advance_loc1 = 0x02,
  CFA_advance_loc2 = 0x03,
  CFA_advance_loc4 = 0x04,
  CFA_offset_extended = 0x05,
  CFA_restore_extended = 0x06,
  CFA_undefined = 0x07,
  CFA_same_value = 0x08,
  CFA_register = 0x09,
  CFA_remember_state = 0x0a,
  CFA_restore_state = 0x0b,
  CFA_def_cfa = 0x0c,
  CFA_def_cfa_register = 0x0d,
  CFA_def_cfa_offset = 0x0e,
  CFA_def_cfa_expression = 0x0f,
  CFA_expression = 0x10,
  CFA_offset_extended_sf = 0x11,
  CFA_def_cfa_sf = 0x12,
  CFA_def_cfa_offset_sf = 0x13,
  CFA_val_offset = 0x14,
  CFA_val_offset_sf = 0x15,
  CFA_val_expression = 0x16,
  CFA_GNU_args_size = 0x2e,
  CFA_GNU_negative_offset_extended = 0x2f,
};

/* DWARF register numbers (x86-64 psABI, "DWARF Register Number Mapping");
 * 16 is the return address column. */
enum {
  DW_RBX = 3,
  DW_RBP = 6,
  DW_RSP = 7,
  DW_R12 = 12,
  DW_R13 = 13,
  DW_R14 = 14,
  DW_R15 = 15,
  DW_RA = 16,
};

/* ---- The program's objects ----------------------------------------------------
 * The executable (objects[0], from ckpt_unwind_init) and every instrumented
 * shared library (ckpt_unwind_add_object). A slot is filled before the count
 * that publishes it is raised, and never changed while published but for
 * `gone` (a dlclose'd library): that is what makes the steps thread-safe
 * without locks. */
#define MAX_SEGMENTS 16
#define MAX_OBJECTS 64

struct range {
  uintptr_t lo, hi;
};

struct cfi_object {
  struct range text[MAX_SEGMENTS]; /* executable PT_LOADs: ckpt_unwind_in_program */
  int ntext;
  struct range load[MAX_SEGMENTS]; /* every PT_LOAD's file-backed bytes */
  int nload;
  int have_cfi;                 /* hdr and eh_frame below are usable */
  const uint8_t *hdr, *hdr_end; /* .eh_frame_hdr */
  const uint8_t *eh_frame;      /* start of .eh_frame */
  const uint8_t *eh_frame_end;  /* end of its PT_LOAD: a bound, not the
                                   section end (the zero terminator is) */
  const uint8_t *table;         /* NULL: no binary search table */
  uint64_t fde_count;
  uint8_t table_enc;
  size_t table_entry_size;
  int gone; /* unloaded: its ranges no longer mean it */
};

static struct cfi_object objects[MAX_OBJECTS];
static int nobjects; /* published slots, atomic */

#ifdef CKPT_UNIT_TEST
int ckpt_unwind_test_lookup;
#endif

/* ---- Bounded reads ----------------------------------------------------------
 * A cursor never reads at or past `end`; any attempt sets `bad`, after which
 * every read returns 0. Callers check `bad` once at the end of a unit. */
struct cursor {
  const uint8_t *p, *end;
  int bad;
};

static int need(struct cursor *c, size_t n) {
  if (c->bad || (size_t)(c->end - c->p) < n) {
    c->bad = 1;
    return 0;
  }
  return 1;
}

/* Little-endian, any alignment: .eh_frame fields are packed. */
static uint64_t load_le(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static int64_t load_s32(const uint8_t *p) {
  uint64_t v = load_le(p, 4);
  return (int64_t)(v << 32) >> 32;
}

static uint64_t get_unsigned(struct cursor *c, unsigned n) {
  if (!need(c, n))
    return 0;
  uint64_t v = load_le(c->p, n);
  c->p += n;
  return v;
}

static int64_t get_signed(struct cursor *c, unsigned n) {
  uint64_t v = get_unsigned(c, n);
  unsigned unused_bits = 64 - 8 * n;
  return unused_bits ? (int64_t)(v << unused_bits) >> unused_bits : (int64_t)v;
}

static uint8_t get_u8(struct cursor *c) { return (uint8_t)get_unsigned(c, 1); }

/* LEB128 longer than 10 bytes cannot be a 64-bit value: corrupt. */
static uint64_t get_uleb(struct cursor *c) {
  if (!c->bad && c->p < c->end && *c->p < 0x80) /* CFI operands mostly are */
    return *c->p++;
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    uint8_t b = get_u8(c);
    if (c->bad)
      return 0;
    if (shift < 64)
      v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return v;
  }
  c->bad = 1;
  return 0;
}

static int64_t get_sleb(struct cursor *c) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    uint8_t b = get_u8(c);
    if (c->bad)
      return 0;
    if (shift < 64)
      v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      if (shift + 7 < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << (shift + 7);
      return (int64_t)v;
    }
  }
  c->bad = 1;
  return 0;
}

/* operand * factor without signed overflow (corrupt CFI must not be UB). */
static int64_t scaled(uint64_t operand, int64_t factor) {
  return (int64_t)(operand * (uint64_t)factor);
}

static int in_ranges(const struct range *r, int n, uintptr_t lo, size_t len) {
  for (int i = 0; i < n; i++)
    if (lo >= r[i].lo && lo < r[i].hi && r[i].hi - lo >= len)
      return 1;
  return 0;
}

/* Bytes of one value of a fixed-size format; 0 for LEB128 or unknown. */
static size_t encoded_size(uint8_t enc) {
  switch (enc & PE_FORMAT_MASK) {
  case PE_ABSPTR:
  case PE_UDATA8:
  case PE_SDATA8:
    return 8;
  case PE_UDATA4:
  case PE_SDATA4:
    return 4;
  case PE_UDATA2:
  case PE_SDATA2:
    return 2;
  default:
    return 0;
  }
}

/* A pointer in encoding `enc`. datarel_base is .eh_frame_hdr's address where
 * DW_EH_PE_datarel is defined (in the header), else 0 and datarel is an
 * error. textrel, funcrel and aligned are never emitted for x86-64 ELF. An
 * indirect pointer is read from the executable's own memory (a GOT entry);
 * one pointing elsewhere is an error. */
static uint64_t get_encoded(const struct cfi_object *o, struct cursor *c,
                            uint8_t enc, uintptr_t datarel_base) {
  uintptr_t at = (uintptr_t)c->p;
  uint64_t v;
  switch (enc & PE_FORMAT_MASK) {
  case PE_ABSPTR:
  case PE_UDATA8:
  case PE_SDATA8:
    v = get_unsigned(c, 8);
    break;
  case PE_UDATA4:
    v = get_unsigned(c, 4);
    break;
  case PE_SDATA4:
    v = (uint64_t)get_signed(c, 4);
    break;
  case PE_UDATA2:
    v = get_unsigned(c, 2);
    break;
  case PE_SDATA2:
    v = (uint64_t)get_signed(c, 2);
    break;
  case PE_ULEB128:
    v = get_uleb(c);
    break;
  case PE_SLEB128:
    v = (uint64_t)get_sleb(c);
    break;
  default:
    c->bad = 1;
    return 0;
  }
  switch (enc & PE_APPLICATION_MASK) {
  case 0:
    break;
  case PE_PCREL:
    v += at;
    break;
  case PE_DATAREL:
    if (!datarel_base)
      c->bad = 1;
    v += datarel_base;
    break;
  default:
    c->bad = 1;
  }
  if ((enc & PE_INDIRECT) && !c->bad) {
    if (!o || !in_ranges(o->load, o->nload, (uintptr_t)v, 8)) {
      c->bad = 1;
      return 0;
    }
    v = load_le((const uint8_t *)(uintptr_t)v, 8);
  }
  return c->bad ? 0 : v;
}

/* ---- Initialisation ------------------------------------------------------ */

struct visit_ctx {
  struct cfi_object *o;
  uintptr_t want;    /* an address in the object, 0 for the executable */
  uintptr_t hdr_len; /* PT_GNU_EH_FRAME's size */
  int found;
};

int ckpt_object_holds(const struct dl_phdr_info *info, uintptr_t addr) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && addr >= start && addr < start + ph->p_memsz)
      return 1;
  }
  return 0;
}

/* The object holding want (or the first one, the executable): its PT_LOAD
 * ranges and its PT_GNU_EH_FRAME. */
static int visit_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct visit_ctx *v = data;
  struct cfi_object *o = v->o;
  if (v->want && !ckpt_object_holds(info, v->want))
    return 0;
  v->found = 1;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD) {
      if (o->nload == MAX_SEGMENTS || o->ntext == MAX_SEGMENTS)
        return -1;
      o->load[o->nload++] = (struct range){start, start + ph->p_filesz};
      if (ph->p_flags & PF_X)
        o->text[o->ntext++] = (struct range){start, start + ph->p_memsz};
    } else if (ph->p_type == PT_GNU_EH_FRAME) {
      o->hdr = (const uint8_t *)start;
      v->hdr_len = ph->p_memsz;
    }
  }
  return 1; /* without want, the first object is the executable: stop */
}

/* The PT_LOAD holding p, as a bound for scanning from p. */
static const uint8_t *segment_end(const struct cfi_object *o,
                                  const uint8_t *p) {
  for (int i = 0; i < o->nload; i++)
    if ((uintptr_t)p >= o->load[i].lo && (uintptr_t)p < o->load[i].hi)
      return (const uint8_t *)o->load[i].hi;
  return NULL;
}

/* .eh_frame_hdr: u8 version (1), u8 eh_frame_ptr_enc, u8 fde_count_enc,
 * u8 table_enc, eh_frame_ptr, fde_count, then fde_count pairs
 * (initial_location, fde_address) sorted by location. ld and lld write
 * pcrel|sdata4, udata4 and datarel|sdata4. */
static int parse_eh_frame_hdr(struct cfi_object *o, uintptr_t hdr_len) {
  if (!o->hdr ||
      !in_ranges(o->load, o->nload, (uintptr_t)o->hdr, hdr_len) ||
      hdr_len < 4)
    return -1;
  o->hdr_end = o->hdr + hdr_len;
  struct cursor c = {o->hdr, o->hdr_end, 0};
  uintptr_t base = (uintptr_t)o->hdr;
  uint8_t version = get_u8(&c);
  uint8_t eh_frame_ptr_enc = get_u8(&c);
  uint8_t fde_count_enc = get_u8(&c);
  uint8_t table_enc = get_u8(&c);
  if (version != 1 || eh_frame_ptr_enc == PE_OMIT)
    return -1;
  o->eh_frame =
      (const uint8_t *)(uintptr_t)get_encoded(o, &c, eh_frame_ptr_enc, base);
  if (c.bad || !(o->eh_frame_end = segment_end(o, o->eh_frame)))
    return -1;
  o->table = NULL;
  if (fde_count_enc != PE_OMIT && table_enc != PE_OMIT) {
    uint64_t count = get_encoded(o, &c, fde_count_enc, base);
    size_t entry_size = 2 * encoded_size(table_enc);
    /* A table of LEB128 entries cannot be searched; scan instead. */
    if (!c.bad && entry_size &&
        count <= (uint64_t)(o->hdr_end - c.p) / entry_size) {
      o->table = c.p;
      o->fde_count = count;
      o->table_enc = table_enc;
      o->table_entry_size = entry_size;
    }
  }
  return 0;
}

/* Reads the object holding `want` (0: the executable) into *o. 0, or -1
 * when it is not loaded or has no usable .eh_frame_hdr. */
static int load_object(struct cfi_object *o, uintptr_t want) {
  *o = (struct cfi_object){0};
  struct visit_ctx v = {o, want, 0, 0};
  if (dl_iterate_phdr(visit_object, &v) != 1 || !v.found) {
    o->ntext = o->nload = 0;
    return -1;
  }
  if (parse_eh_frame_hdr(o, v.hdr_len) != 0) {
    o->ntext = 0; /* no CFI: its code cannot be walked, so it is not ours */
    return -1;
  }
  o->have_cfi = 1;
  return 0;
}

int ckpt_unwind_init(void) {
  int rc = load_object(&objects[0], 0);
  __atomic_store_n(&nobjects, 1, __ATOMIC_RELEASE);
  return rc;
}

int ckpt_unwind_add_object(uintptr_t addr) {
  int n = __atomic_load_n(&nobjects, __ATOMIC_ACQUIRE);
  for (int i = 1; i < n; i++) /* a slot freed by dlclose is taken again */
    if (objects[i].gone) {
      struct cfi_object fresh;
      if (load_object(&fresh, addr) != 0)
        return -1;
      /* Still gone while it is written: a walker skips it until then. */
      fresh.gone = 1;
      objects[i] = fresh;
      __atomic_store_n(&objects[i].gone, 0, __ATOMIC_RELEASE);
      return 0;
    }
  if (n == 0 || n == MAX_OBJECTS || load_object(&objects[n], addr) != 0)
    return -1;
  __atomic_store_n(&nobjects, n + 1, __ATOMIC_RELEASE);
  return 0;
}

/* addr is anywhere in the object, as for ckpt_unwind_add_object (a
 * library's registration record is in its data, not its code). */
void ckpt_unwind_remove_object(uintptr_t addr) {
  int n = __atomic_load_n(&nobjects, __ATOMIC_ACQUIRE);
  for (int i = 1; i < n; i++) {
    const struct cfi_object *o = &objects[i];
    int holds = 0;
    for (int j = 0; j < o->ntext; j++)
      holds |= addr >= o->text[j].lo && addr < o->text[j].hi;
    for (int j = 0; j < o->nload; j++)
      holds |= addr >= o->load[j].lo && addr < o->load[j].hi;
    if (holds && !o->gone) {
      __atomic_store_n(&objects[i].gone, 1, __ATOMIC_RELEASE);
      return;
    }
  }
}

/* The program's object whose code holds pc, or NULL. */
static const struct cfi_object *object_at(uintptr_t pc) {
  int n = __atomic_load_n(&nobjects, __ATOMIC_ACQUIRE);
  for (int k = 0; k < n; k++) {
    const struct cfi_object *o = &objects[k];
    if (__atomic_load_n(&o->gone, __ATOMIC_ACQUIRE))
      continue;
    for (int i = 0; i < o->ntext; i++)
      if (pc >= o->text[i].lo && pc < o->text[i].hi)
        return o;
  }
  return NULL;
}

int ckpt_unwind_in_program(uintptr_t pc) { return object_at(pc) != NULL; }

/* ---- CIEs and FDEs ------------------------------------------------------- */

struct cie_info {
  uint64_t code_align;
  int64_t data_align;
  uint64_t ra_column;
  uint8_t fde_enc;               /* 'R'; absptr without it */
  uint8_t has_augmentation_data; /* 'z': FDEs carry a length-prefixed block */
  const uint8_t *insns, *insns_end;
};

struct fde_info {
  uintptr_t pc_begin, pc_end;
  const uint8_t *insns, *insns_end;
  struct cie_info cie;
};

/* A record's bounds: a 4-byte length (0xffffffff: an 8-byte length
 * follows), then the 4-byte CIE id / CIE pointer that *id_field points at;
 * the record ends at *end. 0 for the zero terminator, -1 if it does not fit
 * in .eh_frame's segment, else 1. */
static int record_bounds(const struct cfi_object *o, const uint8_t *rec, const uint8_t **id_field,
                         const uint8_t **end) {
  if (rec < o->eh_frame || rec >= o->eh_frame_end)
    return -1;
  struct cursor c = {rec, o->eh_frame_end, 0};
  uint64_t length = get_unsigned(&c, 4);
  if (length == 0xffffffff)
    length = get_unsigned(&c, 8);
  if (c.bad)
    return -1;
  if (length == 0)
    return 0;
  if (length < 4 || length > (uint64_t)(o->eh_frame_end - c.p))
    return -1;
  *id_field = c.p;
  *end = c.p + length;
  return 1;
}

/* A CIE: version (1 or 3), augmentation string, code and data alignment,
 * return address column, then with 'z' a length-prefixed augmentation block
 * described by the string's letters: L (LSDA encoding), P (personality
 * encoding and pointer), R (FDE pointer encoding), S (signal frame: no data;
 * it only matters for frames of signal trampolines, none of which is ours),
 * and the initial instructions. */
static int parse_cie(const struct cfi_object *o, const uint8_t *cie,
                     struct cie_info *out) {
  const uint8_t *id_field, *end;
  if (record_bounds(o, cie, &id_field, &end) != 1)
    return -1;
  struct cursor c = {id_field, end, 0};
  if (get_unsigned(&c, 4) != 0)
    return -1;
  uint8_t version = get_u8(&c);
  if (version != 1 && version != 3)
    return -1;
  const uint8_t *aug = c.p;
  while (get_u8(&c) != 0)
    if (c.bad)
      return -1;
  /* "eh": an old g++ pointer to exception data precedes the factors. */
  if (aug[0] == 'e' && aug[1] == 'h') {
    get_unsigned(&c, 8);
    aug += 2;
  }
  out->code_align = get_uleb(&c);
  out->data_align = get_sleb(&c);
  out->ra_column = version == 1 ? get_u8(&c) : get_uleb(&c);
  out->fde_enc = PE_ABSPTR;
  out->has_augmentation_data = aug[0] == 'z';
  if (out->has_augmentation_data) {
    uint64_t len = get_uleb(&c);
    if (c.bad || len > (uint64_t)(end - c.p))
      return -1;
    const uint8_t *data_end = c.p + len;
    for (const uint8_t *a = aug + 1; *a; a++) {
      switch (*a) {
      case 'L':
        get_u8(&c);
        break;
      case 'P': {
        /* The personality routine is irrelevant to unwinding: skip it
         * without following an indirect pointer. */
        uint8_t enc = get_u8(&c);
        get_encoded(o, &c, enc & (uint8_t)~PE_INDIRECT, 0);
        break;
      }
      case 'R':
        out->fde_enc = get_u8(&c);
        break;
      case 'S':
        break;
      default:
        /* Unknown letter: its data cannot be told apart from the next
         * letter's, so only what came before it would be trustworthy. */
        return -1;
      }
    }
    if (c.bad || c.p > data_end)
      return -1;
    c.p = data_end;
  } else if (aug[0] != 0) {
    return -1; /* data of unknown size follows */
  }
  if (c.bad)
    return -1;
  out->insns = c.p;
  out->insns_end = end;
  return 0;
}

/* An FDE: CIE pointer (distance back from the field itself), pc_begin and
 * pc_range in the CIE's 'R' encoding (the range without its application),
 * the augmentation block with 'z', then the instructions. */
static int parse_fde(const struct cfi_object *o, const uint8_t *fde,
                     struct fde_info *out) {
  const uint8_t *id_field, *end;
  if (record_bounds(o, fde, &id_field, &end) != 1)
    return -1;
  struct cursor c = {id_field, end, 0};
  uint64_t cie_offset = get_unsigned(&c, 4);
  if (cie_offset == 0 || cie_offset > (uint64_t)(id_field - o->eh_frame))
    return -1; /* a CIE, or pointing before .eh_frame */
  if (parse_cie(o, id_field - cie_offset, &out->cie) != 0)
    return -1;
  uint64_t pc_begin = get_encoded(o, &c, out->cie.fde_enc, 0);
  uint64_t pc_range = get_encoded(o, &c, out->cie.fde_enc & PE_FORMAT_MASK, 0);
  if (out->cie.has_augmentation_data) {
    uint64_t len = get_uleb(&c);
    if (c.bad || len > (uint64_t)(end - c.p))
      return -1;
    c.p += len;
  }
  if (c.bad || pc_begin + pc_range < pc_begin)
    return -1;
  out->pc_begin = pc_begin;
  out->pc_end = pc_begin + pc_range;
  out->insns = c.p;
  out->insns_end = end;
  return 0;
}

/* Without a search table: every FDE in .eh_frame, up to the terminator. */
static int find_fde_linear(const struct cfi_object *o, uintptr_t pc,
                           struct fde_info *out) {
  const uint8_t *rec = o->eh_frame, *id_field, *end;
  while (record_bounds(o, rec, &id_field, &end) == 1) {
    if (load_le(id_field, 4) != 0 && parse_fde(o, rec, out) == 0 &&
        pc >= out->pc_begin && pc < out->pc_end)
      return 0;
    rec = end;
  }
  return -1;
}

/* The table entry's initial location; the FDE's address in *fde. */
static uintptr_t table_entry(const struct cfi_object *o, size_t i,
                             const uint8_t **fde) {
  const uint8_t *entry = o->table + i * o->table_entry_size;
  uintptr_t base = (uintptr_t)o->hdr;
  int fast = o->table_enc == (PE_DATAREL | PE_SDATA4); /* ld's and lld's */
#ifdef CKPT_UNIT_TEST
  fast = fast && ckpt_unwind_test_lookup != CKPT_UNWIND_TEST_TABLE_GENERIC;
#endif
  if (fast) {
    *fde = (const uint8_t *)(base + (uint64_t)load_s32(entry + 4));
    return base + (uint64_t)load_s32(entry);
  }
  struct cursor c = {entry, entry + o->table_entry_size, 0};
  uintptr_t location = get_encoded(o, &c, o->table_enc, base);
  *fde = (const uint8_t *)(uintptr_t)get_encoded(o, &c, o->table_enc, base);
  return location;
}

/* Binary search for the last entry starting at or below pc; its FDE must
 * then cover pc (a gap between functions has no entry of its own). */
static int find_fde(const struct cfi_object *o, uintptr_t pc,
                    struct fde_info *out) {
#ifdef CKPT_UNIT_TEST
  if (ckpt_unwind_test_lookup == CKPT_UNWIND_TEST_LINEAR_SCAN)
    return find_fde_linear(o, pc, out);
#endif
  if (!o->table)
    return find_fde_linear(o, pc, out);
  size_t lo = 0, hi = o->fde_count;
  const uint8_t *fde = NULL;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const uint8_t *mid_fde;
    if (table_entry(o, mid, &mid_fde) <= pc) {
      lo = mid + 1;
      fde = mid_fde;
    } else {
      hi = mid;
    }
  }
  if (!fde || parse_fde(o, fde, out) != 0)
    return -1;
  return pc >= out->pc_begin && pc < out->pc_end ? 0 : -1;
}

/* ---- The CFA program --------------------------------------------------------
 * Rules are kept for the registers a step restores (slots), the CFA as
 * register + offset. Rules for any other register are parsed and dropped:
 * caller-saved registers are dead across calls, and rsp is the CFA by the
 * psABI's definition. */
enum {
  SLOT_RBX,
  SLOT_RBP,
  SLOT_R12,
  SLOT_R13,
  SLOT_R14,
  SLOT_R15,
  SLOT_RA,
  NSLOTS
};

enum rule_kind {
  RULE_SAME_VALUE,  /* unchanged in the caller (the default) */
  RULE_UNDEFINED,   /* not recoverable; for the RA: the outermost frame */
  RULE_OFFSET,      /* saved at CFA + arg */
  RULE_VAL_OFFSET,  /* the value is CFA + arg */
  RULE_REGISTER,    /* the value is in DWARF register arg */
  RULE_UNSUPPORTED, /* a DWARF expression */
};

/* Kept small (80 bytes) so that copying one for remember_state is a few
 * moves, not a memcpy call. cfa_register saturates: any number past the
 * ones reg_value knows is as unusable as the next. */
struct row {
  int64_t cfa_offset;
  int64_t arg[NSLOTS];
  uint32_t cfa_register;
  uint8_t cfa_is_expression;
  uint8_t kind[NSLOTS]; /* enum rule_kind */
};

/* remember_state nesting: compilers use one level (around an epilogue). */
#define REMEMBER_DEPTH 8

struct cfa_program {
  const struct cfi_object *o; /* whose CFI this is */
  const struct cie_info *cie;
  uintptr_t pc;              /* the row wanted is the one covering pc */
  const struct row *initial; /* after the CIE's instructions; NULL in them */
  struct row row;
  struct row remembered[REMEMBER_DEPTH];
  int nremembered;
};

static int slot_of(uint64_t dwarf_reg) {
  switch (dwarf_reg) {
  case DW_RBX:
    return SLOT_RBX;
  case DW_RBP:
    return SLOT_RBP;
  case DW_R12:
    return SLOT_R12;
  case DW_R13:
    return SLOT_R13;
  case DW_R14:
    return SLOT_R14;
  case DW_R15:
    return SLOT_R15;
  case DW_RA:
    return SLOT_RA;
  default:
    return -1;
  }
}

static uint32_t register_number(uint64_t dwarf_reg) {
  return dwarf_reg < UINT32_MAX ? (uint32_t)dwarf_reg : UINT32_MAX;
}

static void set_rule(struct row *row, uint64_t dwarf_reg, enum rule_kind kind,
                     int64_t arg) {
  int slot = slot_of(dwarf_reg);
  if (slot >= 0) {
    row->kind[slot] = (uint8_t)kind;
    row->arg[slot] = arg;
  }
}

/* Runs instructions [p, end) from location `loc` until the next advance
 * would pass prog->pc. 0, or -1 for corrupt or unsupported CFI. */
static int run_cfa_program(struct cfa_program *prog, const uint8_t *p,
                           const uint8_t *end, uintptr_t loc) {
  struct cursor c = {p, end, 0};
  struct row *row = &prog->row;
  const struct cie_info *cie = prog->cie;
  while (c.p < c.end) {
    uint8_t op = get_u8(&c);
    uint64_t reg, delta;
    switch (op & 0xc0) {
    case CFA_advance_loc:
      delta = op & 0x3f;
      goto advance;
    case CFA_offset:
      reg = op & 0x3f;
      set_rule(row, reg, RULE_OFFSET, scaled(get_uleb(&c), cie->data_align));
      continue;
    case CFA_restore:
      reg = op & 0x3f;
      goto restore;
    }
    switch (op) {
    case CFA_nop:
      continue;
    case CFA_set_loc: {
      uint64_t to = get_encoded(prog->o, &c, cie->fde_enc, 0);
      if (c.bad || to < loc)
        return -1;
      if (to > prog->pc)
        return 0;
      loc = to;
      continue;
    }
    case CFA_advance_loc1:
      delta = get_unsigned(&c, 1);
      goto advance;
    case CFA_advance_loc2:
      delta = get_unsigned(&c, 2);
      goto advance;
    case CFA_advance_loc4:
      delta = get_unsigned(&c, 4);
      goto advance;
    case CFA_offset_extended:
      reg = get_uleb(&c);
      set_rule(row, reg, RULE_OFFSET, scaled(get_uleb(&c), cie->data_align));
      continue;
    case CFA_offset_extended_sf:
      reg = get_uleb(&c);
      set_rule(row, reg, RULE_OFFSET,
               scaled((uint64_t)get_sleb(&c), cie->data_align));
      continue;
    case CFA_GNU_negative_offset_extended:
      reg = get_uleb(&c);
      set_rule(row, reg, RULE_OFFSET,
               scaled(0 - get_uleb(&c), cie->data_align));
      continue;
    case CFA_val_offset:
      reg = get_uleb(&c);
      set_rule(row, reg, RULE_VAL_OFFSET,
               scaled(get_uleb(&c), cie->data_align));
      continue;
    case CFA_val_offset_sf:
      reg = get_uleb(&c);
      set_rule(row, reg, RULE_VAL_OFFSET,
               scaled((uint64_t)get_sleb(&c), cie->data_align));
      continue;
    case CFA_restore_extended:
      reg = get_uleb(&c);
      goto restore;
    case CFA_undefined:
      set_rule(row, get_uleb(&c), RULE_UNDEFINED, 0);
      continue;
    case CFA_same_value:
      set_rule(row, get_uleb(&c), RULE_SAME_VALUE, 0);
      continue;
    case CFA_register:
      reg = get_uleb(&c);
      set_rule(row, reg, RULE_REGISTER, (int64_t)get_uleb(&c));
      continue;
    case CFA_remember_state:
      if (prog->nremembered == REMEMBER_DEPTH)
        return -1;
      prog->remembered[prog->nremembered++] = *row;
      continue;
    case CFA_restore_state:
      if (prog->nremembered == 0)
        return -1;
      *row = prog->remembered[--prog->nremembered];
      continue;
    case CFA_def_cfa:
      row->cfa_register = register_number(get_uleb(&c));
      row->cfa_offset = (int64_t)get_uleb(&c);
      row->cfa_is_expression = 0;
      continue;
    case CFA_def_cfa_sf:
      row->cfa_register = register_number(get_uleb(&c));
      row->cfa_offset = scaled((uint64_t)get_sleb(&c), cie->data_align);
      row->cfa_is_expression = 0;
      continue;
    case CFA_def_cfa_register:
      row->cfa_register = register_number(get_uleb(&c));
      continue;
    case CFA_def_cfa_offset:
      row->cfa_offset = (int64_t)get_uleb(&c);
      continue;
    case CFA_def_cfa_offset_sf:
      row->cfa_offset = scaled((uint64_t)get_sleb(&c), cie->data_align);
      continue;
    case CFA_def_cfa_expression: {
      /* Not evaluated: the row is unusable until a later def_cfa. */
      uint64_t len = get_uleb(&c);
      if (!need(&c, len))
        return -1;
      c.p += len;
      row->cfa_is_expression = 1;
      continue;
    }
    case CFA_expression:
    case CFA_val_expression: {
      reg = get_uleb(&c);
      uint64_t len = get_uleb(&c);
      if (!need(&c, len))
        return -1;
      c.p += len;
      set_rule(row, reg, RULE_UNSUPPORTED, 0);
      continue;
    }
    case CFA_GNU_args_size:
      get_uleb(&c); /* the callee pops no arguments on x86-64 */
      continue;
    default:
      return -1;
    }
  advance:
    if (c.bad || cie->code_align == 0)
      return -1;
    if (delta > (prog->pc - loc) / cie->code_align)
      return 0; /* the next row starts past pc */
    loc += delta * cie->code_align;
    continue;
  restore:
    if (!prog->initial)
      return -1; /* restore in the CIE's own instructions */
    {
      int slot = slot_of(reg);
      if (slot >= 0)
        row->kind[slot] = prog->initial->kind[slot];
      row->arg[slot] = prog->initial->arg[slot];
    }
  }
  return c.bad ? -1 : 0;
}

/* ---- One step ------------------------------------------------------------ */

static int reg_value(const struct ckpt_unwind_regs *r, uint64_t dwarf_reg,
                     uint64_t *out) {
  switch (dwarf_reg) {
  case DW_RSP:
    *out = r->rsp;
    return 1;
  case DW_RBP:
    *out = r->rbp;
    return 1;
  case DW_RBX:
    *out = r->rbx;
    return 1;
  case DW_R12:
    *out = r->r12;
    return 1;
  case DW_R13:
    *out = r->r13;
    return 1;
  case DW_R14:
    *out = r->r14;
    return 1;
  case DW_R15:
    *out = r->r15;
    return 1;
  default:
    return 0;
  }
}

static const uint8_t slot_dwarf_reg[NSLOTS] = {DW_RBX, DW_RBP, DW_R12, DW_R13,
                                               DW_R14, DW_R15, DW_RA};

/* An 8-byte stack slot inside [lo, hi). */
static int slot_readable(uint64_t addr, uintptr_t lo, uintptr_t hi) {
  return (addr & 7) == 0 && addr >= lo && addr < hi && hi - addr >= 8;
}

/* The slots are the frame's own saved registers and return address, never
 * a sanitizer's redzone; another thread's stack is read while it is
 * stopped. */
__attribute__((no_sanitize_address)) static uint64_t
load_stack_word(uint64_t addr) {
  return *(const uint64_t *)(uintptr_t)addr;
}

/* The caller's registers from the row covering the frame's pc. */
static int apply_row(const struct row *row, struct ckpt_unwind_regs *r,
                     uintptr_t lo, uintptr_t hi) {
  if (row->kind[SLOT_RA] == RULE_UNDEFINED)
    return CKPT_UNWIND_BOTTOM;
  uint64_t cfa;
  if (row->cfa_is_expression || !reg_value(r, row->cfa_register, &cfa))
    return CKPT_UNWIND_NO_INFO;
  cfa += (uint64_t)row->cfa_offset;
  /* The CFA is the caller's rsp before the call: above the callee's rsp,
   * 8-aligned, with the return address slot just below it on the stack. */
  if ((cfa & 7) || cfa <= r->rsp || !slot_readable(cfa - 8, lo, hi))
    return CKPT_UNWIND_NO_INFO;
  uint64_t value[NSLOTS];
  for (int s = 0; s < NSLOTS; s++) {
    uint64_t addr;
    switch (row->kind[s]) {
    case RULE_SAME_VALUE:
      /* A return address equal to this frame's pc would loop. */
      if (s == SLOT_RA || !reg_value(r, slot_dwarf_reg[s], &value[s]))
        return CKPT_UNWIND_NO_INFO;
      break;
    case RULE_UNDEFINED:
      value[s] = 0;
      break;
    case RULE_OFFSET:
      addr = cfa + (uint64_t)row->arg[s];
      if (!slot_readable(addr, lo, hi))
        return CKPT_UNWIND_NO_INFO;
      value[s] = load_stack_word(addr);
      break;
    case RULE_VAL_OFFSET:
      value[s] = cfa + (uint64_t)row->arg[s];
      break;
    case RULE_REGISTER:
      if (!reg_value(r, (uint64_t)row->arg[s], &value[s]))
        return CKPT_UNWIND_NO_INFO;
      break;
    default:
      return CKPT_UNWIND_NO_INFO;
    }
  }
  r->rip = value[SLOT_RA];
  r->rsp = cfa;
  r->rbp = value[SLOT_RBP];
  r->rbx = value[SLOT_RBX];
  r->r12 = value[SLOT_R12];
  r->r13 = value[SLOT_R13];
  r->r14 = value[SLOT_R14];
  r->r15 = value[SLOT_R15];
  return CKPT_UNWIND_OK;
}

int ckpt_unwind_step(struct ckpt_unwind_regs *r, int exact, uintptr_t stack_lo,
                     uintptr_t stack_hi, uintptr_t *func_start) {
  if (func_start)
    *func_start = 0;
  /* A return address follows its call, which may be a function's last
   * instruction (a noreturn call): the call itself is at rip - 1. */
  uintptr_t pc = exact ? r->rip : r->rip - 1;
  const struct cfi_object *o = object_at(pc);
  if (!o)
    return CKPT_UNWIND_NOT_PROGRAM;
  struct fde_info fde;
  if (!o->have_cfi || find_fde(o, pc, &fde) != 0 || fde.cie.ra_column != DW_RA)
    return CKPT_UNWIND_NO_INFO;

  struct cfa_program prog;
  prog.o = o;
  prog.cie = &fde.cie;
  prog.pc = pc;
  prog.initial = NULL;
  prog.nremembered = 0;
  prog.row.cfa_register = UINT32_MAX; /* no CFA until the CIE defines one */
  prog.row.cfa_offset = 0;
  prog.row.cfa_is_expression = 0;
  for (int s = 0; s < NSLOTS; s++)
    set_rule(&prog.row, slot_dwarf_reg[s], RULE_SAME_VALUE, 0);
  if (run_cfa_program(&prog, fde.cie.insns, fde.cie.insns_end, fde.pc_begin) !=
      0)
    return CKPT_UNWIND_NO_INFO;
  struct row initial = prog.row;
  prog.initial = &initial;
  if (run_cfa_program(&prog, fde.insns, fde.insns_end, fde.pc_begin) != 0)
    return CKPT_UNWIND_NO_INFO;

  int result = apply_row(&prog.row, r, stack_lo, stack_hi);
  if (func_start && result != CKPT_UNWIND_NO_INFO)
    *func_start = fde.pc_begin;
  return result;
}

const char *ckpt_unwind_result_name(int result) {
  switch (result) {
  case CKPT_UNWIND_OK:
    return "ok";
  case CKPT_UNWIND_BOTTOM:
    return "bottom";
  case CKPT_UNWIND_NOT_PROGRAM:
    return "not-program";
  case CKPT_UNWIND_NO_INFO:
    return "no-info";
  default:
    return "?";
  }
}

/* ---- Capture ----------------------------------------------------------------
 * A leaf without a frame: the CIE's default row (CFA = rsp + 8, return
 * address at CFA - 8) describes every instruction, so .cfi_startproc and
 * .cfi_endproc are all the CFI it needs. */
_Static_assert(offsetof(struct ckpt_unwind_regs, rip) == 0 &&
                   offsetof(struct ckpt_unwind_regs, rsp) == 8 &&
                   offsetof(struct ckpt_unwind_regs, rbp) == 16 &&
                   offsetof(struct ckpt_unwind_regs, rbx) == 24 &&
                   offsetof(struct ckpt_unwind_regs, r12) == 32 &&
                   offsetof(struct ckpt_unwind_regs, r13) == 40 &&
                   offsetof(struct ckpt_unwind_regs, r14) == 48 &&
                   offsetof(struct ckpt_unwind_regs, r15) == 56,
               "ckpt_unwind_capture stores at these offsets");

#if defined(__CET__) && (__CET__ & 1)
#define CAPTURE_ENTRY_BRANCH_TARGET "endbr64\n"
#else
#define CAPTURE_ENTRY_BRANCH_TARGET ""
#endif

__asm__(".pushsection .text\n"
        ".globl ckpt_unwind_capture\n"
        ".type ckpt_unwind_capture, @function\n"
        ".p2align 4\n"
        "ckpt_unwind_capture:\n"
        ".cfi_startproc\n" CAPTURE_ENTRY_BRANCH_TARGET "mov (%rsp), %rax\n"
        "mov %rax, 0(%rdi)\n" /* rip: our return address */
        "lea 8(%rsp), %rax\n"
        "mov %rax, 8(%rdi)\n" /* rsp once `ret` has popped it */
        "mov %rbp, 16(%rdi)\n"
        "mov %rbx, 24(%rdi)\n"
        "mov %r12, 32(%rdi)\n"
        "mov %r13, 40(%rdi)\n"
        "mov %r14, 48(%rdi)\n"
        "mov %r15, 56(%rdi)\n"
        "ret\n"
        ".cfi_endproc\n"
        ".size ckpt_unwind_capture, .-ckpt_unwind_capture\n"
        ".popsection\n");
