//! The C library of SPEC §2.3 over the program's own memory: `<string.h>`,
//! `<ctype.h>`, the `<stdlib.h>` conversions and `strdup`, plus the heap
//! entry points. Every pointer argument's range is checked with
//! [`ProgramMemory::check_range`] (or scanned piece by piece with
//! [`ProgramMemory::owned_piece`] for a C string) before any byte of it is
//! read or written, so a bad pointer is a runtime error, never a fault.
//!
//! Arguments and results (`rt_libc(ctx, which, args, fp, pc, span) -> u64`):
//! `args` holds one 8-byte slot per C parameter in order. A pointer or a
//! `size_t` is the 64-bit value; an `int` (the `c` of `strchr`, `memset`,
//! `is*`, `toupper`, the `base` of `strtol`) is read from the slot's low 32
//! bits; a `long` is the 64-bit value. The result is the pointer or
//! `size_t`, an `int` or `long` sign-extended to 64 bits, and for `strtod`
//! the bits of the `double`.

use crate::memory::{AccessKind, BadAccess, MemFault, ProgramMemory};

/// The C library functions generated code calls through `rt_libc`, by a
/// stable number (the compiler mirrors this list by name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
#[allow(missing_docs)] // each variant is the C function of the same name
pub enum LibcFn {
    Strlen = 1,
    Strcmp = 2,
    Strncmp = 3,
    Strcpy = 4,
    Strncpy = 5,
    Strcat = 6,
    Strncat = 7,
    Strchr = 8,
    Strrchr = 9,
    Strstr = 10,
    Memcpy = 11,
    Memmove = 12,
    Memset = 13,
    Memcmp = 14,
    Isalnum = 20,
    Isalpha = 21,
    Isdigit = 22,
    Isxdigit = 23,
    Islower = 24,
    Isupper = 25,
    Isspace = 26,
    Ispunct = 27,
    Isprint = 28,
    Iscntrl = 29,
    Isgraph = 30,
    Toupper = 31,
    Tolower = 32,
    Atoi = 40,
    Atol = 41,
    Strtol = 42,
    Strtoul = 43,
    Strtod = 44,
    Abs = 45,
    Labs = 46,
    Strdup = 47,
}

impl LibcFn {
    /// Every function, with its C name.
    pub const ALL: [(LibcFn, &'static str); 35] = [
        (LibcFn::Strlen, "strlen"),
        (LibcFn::Strcmp, "strcmp"),
        (LibcFn::Strncmp, "strncmp"),
        (LibcFn::Strcpy, "strcpy"),
        (LibcFn::Strncpy, "strncpy"),
        (LibcFn::Strcat, "strcat"),
        (LibcFn::Strncat, "strncat"),
        (LibcFn::Strchr, "strchr"),
        (LibcFn::Strrchr, "strrchr"),
        (LibcFn::Strstr, "strstr"),
        (LibcFn::Memcpy, "memcpy"),
        (LibcFn::Memmove, "memmove"),
        (LibcFn::Memset, "memset"),
        (LibcFn::Memcmp, "memcmp"),
        (LibcFn::Isalnum, "isalnum"),
        (LibcFn::Isalpha, "isalpha"),
        (LibcFn::Isdigit, "isdigit"),
        (LibcFn::Isxdigit, "isxdigit"),
        (LibcFn::Islower, "islower"),
        (LibcFn::Isupper, "isupper"),
        (LibcFn::Isspace, "isspace"),
        (LibcFn::Ispunct, "ispunct"),
        (LibcFn::Isprint, "isprint"),
        (LibcFn::Iscntrl, "iscntrl"),
        (LibcFn::Isgraph, "isgraph"),
        (LibcFn::Toupper, "toupper"),
        (LibcFn::Tolower, "tolower"),
        (LibcFn::Atoi, "atoi"),
        (LibcFn::Atol, "atol"),
        (LibcFn::Strtol, "strtol"),
        (LibcFn::Strtoul, "strtoul"),
        (LibcFn::Strtod, "strtod"),
        (LibcFn::Abs, "abs"),
        (LibcFn::Labs, "labs"),
        (LibcFn::Strdup, "strdup"),
    ];

    /// The function a C name denotes.
    pub fn from_name(name: &str) -> Option<LibcFn> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    /// The function numbered `v`.
    pub fn from_u32(v: u32) -> Option<LibcFn> {
        Self::ALL
            .iter()
            .find(|(f, _)| *f as u32 == v)
            .map(|(f, _)| *f)
    }

    /// Its C name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// How many argument slots it takes.
    pub fn arity(self) -> usize {
        use LibcFn::*;
        match self {
            Strlen | Isalnum | Isalpha | Isdigit | Isxdigit | Islower | Isupper | Isspace
            | Ispunct | Isprint | Iscntrl | Isgraph | Toupper | Tolower | Atoi | Atol | Abs
            | Labs | Strdup => 1,
            Strcmp | Strcpy | Strcat | Strchr | Strrchr | Strstr | Strtod => 2,
            _ => 3,
        }
    }
}

/// Reads the program's bytes one at a time, checking each owned piece as
/// it is entered.
struct Reader<'a> {
    mem: &'a ProgramMemory,
    addr: u64,
    avail: u64,
    /// The piece being read (`start`, `size`), once entered.
    piece: Option<(u64, u64)>,
}

impl<'a> Reader<'a> {
    fn new(mem: &'a ProgramMemory, addr: u64) -> Reader<'a> {
        Reader {
            mem,
            addr,
            avail: 0,
            piece: None,
        }
    }

    fn next(&mut self) -> Result<u8, BadAccess> {
        if self.avail == 0 {
            if let Some((object, size)) = self.piece {
                // A string never runs from one object into the next.
                return Err(BadAccess {
                    addr: self.addr,
                    len: 1,
                    write: false,
                    kind: AccessKind::Overrun { object, size },
                });
            }
            let (avail, start, size) = self.mem.owned_piece(self.addr, false)?;
            self.avail = avail;
            self.piece = Some((start, size));
        }
        // SAFETY: `addr` lies in a piece of owned memory (checked above),
        // which is mapped readable.
        let b = unsafe { *(self.addr as *const u8) };
        self.addr = self.addr.wrapping_add(1);
        self.avail -= 1;
        Ok(b)
    }
}

/// `strnlen`: bytes before the first NUL, at most `max`, reading (with
/// checks) only those bytes and the NUL.
fn strnlen(mem: &ProgramMemory, s: u64, max: u64) -> Result<u64, BadAccess> {
    let mut r = Reader::new(mem, s);
    let mut n = 0;
    while n < max && r.next()? != 0 {
        n += 1;
    }
    Ok(n)
}

fn strlen(mem: &ProgramMemory, s: u64) -> Result<u64, BadAccess> {
    strnlen(mem, s, u64::MAX)
}

/// The bytes of `[addr, addr+len)`, checked.
fn read(mem: &ProgramMemory, addr: u64, len: u64) -> Result<Vec<u8>, BadAccess> {
    mem.check_range(addr, len, false)?;
    if len == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: the whole range is owned (checked) and mapped.
    Ok(unsafe { std::slice::from_raw_parts(addr as *const u8, len as usize) }.to_vec())
}

/// The C string at `s` with its NUL.
fn cstring(mem: &ProgramMemory, s: u64) -> Result<Vec<u8>, BadAccess> {
    let n = strlen(mem, s)?;
    read(mem, s, n + 1)
}

/// Copies `len` bytes (ranges may overlap), both ranges checked first.
fn copy(mem: &ProgramMemory, dst: u64, src: u64, len: u64) -> Result<(), BadAccess> {
    mem.check_range(src, len, false)?;
    mem.check_range(dst, len, true)?;
    if len > 0 {
        // SAFETY: both ranges are owned (checked) and mapped RW; `copy`
        // allows overlap.
        unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, len as usize) };
    }
    Ok(())
}

fn fill(mem: &ProgramMemory, dst: u64, byte: u8, len: u64) -> Result<(), BadAccess> {
    mem.check_range(dst, len, true)?;
    if len > 0 {
        // SAFETY: the range is owned (checked) and mapped RW.
        unsafe { std::ptr::write_bytes(dst as *mut u8, byte, len as usize) };
    }
    Ok(())
}

fn int(v: u64) -> i32 {
    v as u32 as i32
}

fn ret_int(v: i32) -> u64 {
    v as i64 as u64
}

/// Character classes and case as glibc's (the pup runs in the C locale:
/// it never calls `setlocale`), by asking glibc itself, so that the values
/// are its exact ones (`isalpha('a')` is 1024, not 1). glibc's tables are
/// defined for -128..=255 (`EOF` among them); other values, undefined in
/// C, give 0 (and themselves for `toupper`/`tolower`, as glibc does)
/// without indexing any table.
fn ctype(f: LibcFn, c: i32) -> i32 {
    if !(-128..=255).contains(&c) {
        return if matches!(f, LibcFn::Toupper | LibcFn::Tolower) {
            c
        } else {
            0
        };
    }
    // Called through an opaque pointer: LLVM folds a direct `isdigit(c)`
    // into `c - '0' < 10`, which is not glibc's value (2048 for a digit).
    type F = unsafe extern "C" fn(libc::c_int) -> libc::c_int;
    let g: F = match f {
        LibcFn::Isalnum => libc::isalnum,
        LibcFn::Isalpha => libc::isalpha,
        LibcFn::Isdigit => libc::isdigit,
        LibcFn::Isxdigit => libc::isxdigit,
        LibcFn::Islower => libc::islower,
        LibcFn::Isupper => libc::isupper,
        LibcFn::Isspace => libc::isspace,
        LibcFn::Ispunct => libc::ispunct,
        LibcFn::Isprint => libc::isprint,
        LibcFn::Iscntrl => libc::iscntrl,
        LibcFn::Isgraph => libc::isgraph,
        LibcFn::Toupper => libc::toupper,
        LibcFn::Tolower => libc::tolower,
        _ => return 0,
    };
    // SAFETY: a plain table lookup, in range for glibc's tables (above).
    unsafe { std::hint::black_box(g)(c) }
}

/// The conversions `strtol`, `strtoul` and `strtod` of glibc itself, run
/// on a checked copy of the string; `end` (if not null) is checked as an
/// 8-byte store before anything is read.
fn strto(mem: &ProgramMemory, f: LibcFn, s: u64, end: u64, base: i32) -> Result<u64, BadAccess> {
    if end != 0 {
        mem.check_range(end, 8, true)?;
    }
    let buf = cstring(mem, s)?;
    let p = buf.as_ptr() as *const libc::c_char;
    let mut e: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated and outlives the calls; `e` is set
    // by libc to a pointer into `buf`.
    let v = unsafe {
        match f {
            LibcFn::Strtoul => libc::strtoul(p, &mut e, base) as u64,
            LibcFn::Strtod => libc::strtod(p, &mut e).to_bits(),
            _ => libc::strtol(p, &mut e, base) as u64,
        }
    };
    // glibc leaves `*end` alone when it refuses the base.
    if end != 0 && !e.is_null() {
        let used = (e as u64).wrapping_sub(p as u64);
        // SAFETY: checked as an owned 8-byte store above.
        unsafe { (end as *mut u64).write_unaligned(s + used) };
    }
    Ok(v)
}

/// Compares bytes as unsigned chars, returning their difference as
/// glibc's x86-64 `strcmp`/`memcmp` do.
fn diff(a: u8, b: u8) -> u64 {
    ret_int(a as i32 - b as i32)
}

/// Runs C library function `f` on argument slots `a` (one per parameter).
pub(crate) fn call(mem: &ProgramMemory, f: LibcFn, a: &[u64]) -> Result<u64, MemFault> {
    use LibcFn::*;
    let r: Result<u64, BadAccess> = (|| {
        Ok(match f {
            Strlen => strlen(mem, a[0])?,
            Strcmp | Strncmp => {
                let max = if f == Strncmp { a[2] } else { u64::MAX };
                let (mut x, mut y) = (Reader::new(mem, a[0]), Reader::new(mem, a[1]));
                let mut i = 0;
                loop {
                    if i == max {
                        break 0;
                    }
                    let (p, q) = (x.next()?, y.next()?);
                    if p != q || p == 0 {
                        break diff(p, q);
                    }
                    i += 1;
                }
            }
            Strcpy => {
                let n = strlen(mem, a[1])? + 1;
                copy(mem, a[0], a[1], n)?;
                a[0]
            }
            Strncpy => {
                let k = strnlen(mem, a[1], a[2])?;
                mem.check_range(a[0], a[2], true)?;
                copy(mem, a[0], a[1], k)?;
                fill(mem, a[0] + k, 0, a[2] - k)?;
                a[0]
            }
            Strcat | Strncat => {
                let d = strlen(mem, a[0])?;
                let k = if f == Strncat {
                    strnlen(mem, a[1], a[2])?
                } else {
                    strlen(mem, a[1])?
                };
                mem.check_range(a[0] + d, k + 1, true)?;
                copy(mem, a[0] + d, a[1], k)?;
                fill(mem, a[0] + d + k, 0, 1)?;
                a[0]
            }
            Strchr | Strrchr => {
                let c = int(a[1]) as u8;
                let mut r = Reader::new(mem, a[0]);
                let mut found = 0;
                let mut i = 0u64;
                loop {
                    let b = r.next()?;
                    if b == c {
                        found = a[0] + i;
                        if f == Strchr {
                            break;
                        }
                    }
                    if b == 0 {
                        break;
                    }
                    i += 1;
                }
                found
            }
            Strstr => {
                let h = cstring(mem, a[0])?;
                let n = cstring(mem, a[1])?;
                let (h, n) = (&h[..h.len() - 1], &n[..n.len() - 1]);
                if n.is_empty() {
                    a[0]
                } else {
                    h.windows(n.len())
                        .position(|w| w == n)
                        .map_or(0, |i| a[0] + i as u64)
                }
            }
            Memcpy | Memmove => {
                copy(mem, a[0], a[1], a[2])?;
                a[0]
            }
            Memset => {
                fill(mem, a[0], int(a[1]) as u8, a[2])?;
                a[0]
            }
            Memcmp => {
                let (x, y) = (read(mem, a[0], a[2])?, read(mem, a[1], a[2])?);
                x.iter()
                    .zip(&y)
                    .find(|(p, q)| p != q)
                    .map_or(0, |(p, q)| diff(*p, *q))
            }
            Isalnum | Isalpha | Isdigit | Isxdigit | Islower | Isupper | Isspace | Ispunct
            | Isprint | Iscntrl | Isgraph | Toupper | Tolower => ret_int(ctype(f, int(a[0]))),
            Atoi => ret_int(strto(mem, Strtol, a[0], 0, 10)? as i64 as i32),
            Atol => strto(mem, Strtol, a[0], 0, 10)?,
            Strtol | Strtoul => strto(mem, f, a[0], a[1], int(a[2]))?,
            Strtod => strto(mem, f, a[0], a[1], 0)?,
            Abs => ret_int(int(a[0]).wrapping_abs()),
            Labs => (a[0] as i64).wrapping_abs() as u64,
            Strdup => {
                let s = cstring(mem, a[0])?;
                let p = mem.malloc(s.len() as u64, 0);
                if p != 0 {
                    // SAFETY: a fresh live object of exactly this length.
                    unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), p as *mut u8, s.len()) };
                }
                p
            }
        })
    })();
    r.map_err(MemFault::Access)
}

/// Writes `bytes` at `dst` (checked as one range).
pub(crate) fn write_bytes(mem: &ProgramMemory, dst: u64, bytes: &[u8]) -> Result<(), BadAccess> {
    mem.check_range(dst, bytes.len() as u64, true)?;
    if !bytes.is_empty() {
        // SAFETY: the range is owned (checked) and mapped RW.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst as *mut u8, bytes.len()) };
    }
    Ok(())
}

/// The C string at `s` (without its NUL), at most `max` bytes of it.
pub(crate) fn read_cstr(mem: &ProgramMemory, s: u64, max: u64) -> Result<Vec<u8>, BadAccess> {
    let n = strnlen(mem, s, max)?;
    read(mem, s, n)
}

#[cfg(test)]
#[path = "libc_tests.rs"]
mod tests;
