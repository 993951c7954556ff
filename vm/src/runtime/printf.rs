//! `printf` for generated code: formats checked at load, each conversion
//! formatted by libc.

use std::ffi::CString;

use crate::memory::{BadAccess, ProgramMemory};

/// Formats `desc` with its argument slots: one 8-byte slot per `*` and per
/// conversion (int, double bits, a pointer to a NUL-terminated literal for
/// [`ConvKind::Str`], a program address for [`ConvKind::CStr`] and
/// [`ConvKind::Ptr`]). A `%s` of a program address reads the C string
/// through `mem`'s checks (at most the precision's bytes, as C does).
///
/// # Safety
/// `args` has one slot per `*` and per conversion of `desc`, and every
/// [`ConvKind::Str`] slot points to a NUL-terminated string that lives
/// meanwhile.
pub(super) unsafe fn format(
    mem: Option<&ProgramMemory>,
    desc: &Printf,
    args: *const u64,
) -> Result<Vec<u8>, BadAccess> {
    let mut out = Vec::with_capacity(64);
    let mut i = 0;
    for piece in &desc.pieces {
        match piece {
            PrintPiece::Lit(b) => out.extend_from_slice(b),
            PrintPiece::Conv { cfmt, kind, stars } => {
                let mut star = [0i64; 2];
                for s in star.iter_mut().take(*stars as usize) {
                    // SAFETY: slot `i` is one of the `*` slots the contract gives.
                    *s = unsafe { *args.add(i) } as i64;
                    i += 1;
                }
                // SAFETY: as above.
                let raw = unsafe { *args.add(i) };
                i += 1;
                let star = &star[..*stars as usize];
                if *kind == ConvKind::CharArray {
                    // SAFETY: a char-array argument takes a second slot, its
                    // length (the contract's slot count includes it).
                    let len = unsafe { *args.add(i) };
                    i += 1;
                    let max = precision(cfmt, star).unwrap_or(u64::MAX).min(len);
                    // SAFETY: generated code passes the address and length of
                    // an array it laid out itself, live during the call.
                    let bytes =
                        unsafe { std::slice::from_raw_parts(raw as *const u8, max as usize) };
                    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                    let c = CString::new(&bytes[..end]).expect("cut at its first NUL");
                    c_format(&mut out, cfmt, ConvKind::Str, star, c.as_ptr() as u64);
                } else if *kind == ConvKind::CStr {
                    let mem = mem.expect("a %s of a pointer needs the program's memory");
                    let max = precision(cfmt, star).unwrap_or(u64::MAX);
                    let bytes = super::libc::read_cstr(mem, raw, max)?;
                    let c = CString::new(bytes).expect("read up to its first NUL");
                    c_format(&mut out, cfmt, ConvKind::Str, star, c.as_ptr() as u64);
                } else {
                    c_format(&mut out, cfmt, *kind, star, raw);
                }
            }
        }
    }
    Ok(out)
}

/// `snprintf`'s store: at most `cap - 1` bytes of `out` and a NUL at
/// `dst` (nothing when `cap` is 0; the range checked before it is
/// written); gives the full length, as C's does.
pub(super) fn store(
    mem: &ProgramMemory,
    mut out: Vec<u8>,
    dst: u64,
    cap: u64,
) -> Result<i32, BadAccess> {
    let n = out.len();
    if cap > 0 {
        out.truncate(n.min((cap - 1).min(usize::MAX as u64) as usize));
        out.push(0);
        super::libc::write_bytes(mem, dst, &out)?;
    }
    Ok(n.min(i32::MAX as usize) as i32)
}

/// The precision of a `%s` conversion, if it has a non-negative one (a
/// negative `*` precision counts as none, as in C).
fn precision(cfmt: &CString, star: &[i64]) -> Option<u64> {
    let f = cfmt.to_bytes();
    let dot = f.iter().position(|&b| b == b'.')?;
    let rest = &f[dot + 1..];
    if rest.first() == Some(&b'*') {
        let p = *star.last()?;
        return (p >= 0).then_some(p as u64);
    }
    let digits: Vec<u8> = rest
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    Some(std::str::from_utf8(&digits).ok()?.parse().unwrap_or(0))
}

/// The argument kind of a printf conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKind {
    /// `%ld %lli %zu %jx ...` (as C `long long`).
    Int,
    /// `%d %hd %hhx ...`: passed as a C `int`, which the conversion narrows.
    ShortInt,
    /// `%c`.
    Char,
    /// `%f %e %g`.
    Double,
    /// `%s` of a literal: the slot points to a NUL-terminated string the
    /// version owns (outside the program's memory).
    Str,
    /// `%s` of a `char *` value: the slot holds a program address, whose C
    /// string is read with the pointer checks. [`prepare_conv`] gives
    /// [`ConvKind::Str`] for every `%s`; the code generator sets this kind
    /// when the argument is a pointer rather than a literal.
    CStr,
    /// `%p`: the slot holds the pointer (printed as glibc does: `0x` and
    /// lowercase hex, `(nil)` for null).
    Ptr,
    /// `%s` of a `char` array the compiler knows (a local, static, global
    /// or array parameter): two slots, its address and its length, and the
    /// string ends at its first NUL or at the array's end, whichever comes
    /// first, so that it is never read past.
    CharArray,
}

/// One piece of a prepared printf format.
#[derive(Debug)]
pub enum PrintPiece {
    /// Literal bytes.
    Lit(Vec<u8>),
    /// A conversion, rewritten into the C format that formats it.
    Conv {
        /// The C format for exactly one conversion (e.g. `%5lld`).
        cfmt: CString,
        /// What the argument slot holds.
        kind: ConvKind,
        /// How many `*` (width, precision) int slots come before it.
        stars: u8,
    },
}

/// A prepared printf format plus the string literals its `%s` arguments
/// point to; owned by the version whose code refers to it.
#[derive(Debug, Default)]
pub struct Printf {
    /// The pieces in order.
    pub pieces: Vec<PrintPiece>,
}

/// Widths and precisions beyond this are refused at load (and a `*`
/// argument is clamped to it), so that one conversion cannot ask for
/// gigabytes of output.
pub const MAX_FIELD: i64 = 1_000_000;

/// Check a conversion as the compiler wrote it and turn it into the C
/// format that prints it. The pup re-validates everything it is sent, so a
/// forged format cannot reach libc's printf with `%n` or a bad `*`.
pub fn prepare_conv(spec: &str, conv: char) -> Result<PrintPiece, String> {
    let bad = || format!("bad conversion {spec:?}");
    let body = spec.strip_prefix('%').ok_or_else(bad)?;
    let mut chars = body.chars().peekable();
    let mut cf = String::from("%");
    let mut stars = 0u8;
    let mut flags = 0;
    while let Some(&c) = chars.peek() {
        if "-+ #0".contains(c) && flags < 5 {
            cf.push(c);
            flags += 1;
            chars.next();
        } else {
            break;
        }
    }
    // Width, then precision: digits (bounded) or one `*`.
    for part in 0..2 {
        if part == 1 {
            if chars.peek() != Some(&'.') {
                break;
            }
            cf.push('.');
            chars.next();
        }
        if chars.peek() == Some(&'*') {
            cf.push('*');
            stars += 1;
            chars.next();
            continue;
        }
        let mut digits = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() {
                digits.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if !digits.is_empty() {
            let v: i64 = digits.parse().unwrap_or(i64::MAX);
            if v > MAX_FIELD {
                return Err(format!("{spec:?}: a width or precision above {MAX_FIELD}"));
            }
            cf.push_str(&v.to_string());
        }
    }
    let mut length = String::new();
    while let Some(&c) = chars.peek() {
        if "hlzjt".contains(c) && length.len() < 2 {
            length.push(c);
            chars.next();
        } else {
            break;
        }
    }
    let last: String = chars.collect();
    if last.len() != 1 || !last.starts_with(conv) {
        return Err(bad());
    }
    let int_len_ok = matches!(
        length.as_str(),
        "" | "h" | "hh" | "l" | "ll" | "z" | "j" | "t"
    );
    let kind = match conv {
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' if int_len_ok => {
            // No length modifier means C's 32-bit `int` (`%x` of -1 is
            // ffffffff), `h`/`hh` narrower still: the slot's 64 bits are
            // passed as a C int and the conversion narrows them.
            if length.is_empty() || length.starts_with('h') {
                cf.push_str(&length);
                ConvKind::ShortInt
            } else {
                cf.push_str("ll");
                ConvKind::Int
            }
        }
        'c' if length.is_empty() => ConvKind::Char,
        'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'a' | 'A' if length.is_empty() || length == "l" => {
            ConvKind::Double
        }
        's' if length.is_empty() => ConvKind::Str,
        'p' if length.is_empty() => ConvKind::Ptr,
        _ => return Err(format!("unsupported conversion {spec:?}")),
    };
    cf.push(conv);
    let cfmt = CString::new(cf).map_err(|e| e.to_string())?;
    Ok(PrintPiece::Conv { cfmt, kind, stars })
}

/// Format one conversion exactly as C's printf does, by asking libc.
/// `star` holds the `*` width and precision the format asks for.
pub(super) fn c_format(out: &mut Vec<u8>, cfmt: &CString, kind: ConvKind, star: &[i64], raw: u64) {
    let mut buf = [0u8; 512];
    let st: Vec<libc::c_int> = star
        .iter()
        .map(|v| (*v).clamp(-MAX_FIELD, MAX_FIELD) as libc::c_int)
        .collect();
    let call = |buf: &mut [u8]| -> i32 {
        let p = buf.as_mut_ptr() as *mut libc::c_char;
        let n = buf.len();
        let f = cfmt.as_ptr();
        macro_rules! fmt {
            ($arg:expr) => {
                match st.as_slice() {
                    [] => libc::snprintf(p, n, f, $arg),
                    [a] => libc::snprintf(p, n, f, *a, $arg),
                    [a, b, ..] => libc::snprintf(p, n, f, *a, *b, $arg),
                }
            };
        }
        // SAFETY: cfmt holds exactly one validated conversion matching the
        // argument passed, preceded by one int per `*`; snprintf never
        // writes past n bytes.
        unsafe {
            match kind {
                ConvKind::Int => fmt!(raw as i64 as libc::c_longlong),
                ConvKind::ShortInt | ConvKind::Char => fmt!(raw as i64 as libc::c_int),
                ConvKind::Double => fmt!(f64::from_bits(raw)),
                ConvKind::Str => fmt!(raw as *const libc::c_char),
                // Never given here: `format` reads a program string with the
                // checks and passes it as `Str`; an empty string otherwise.
                ConvKind::CStr | ConvKind::CharArray => fmt!(c"".as_ptr()),
                ConvKind::Ptr => fmt!(raw as *const libc::c_void),
            }
        }
    };
    let n = call(&mut buf);
    if n < 0 {
        return;
    }
    let n = n as usize;
    if n < buf.len() {
        out.extend_from_slice(&buf[..n]);
    } else {
        let mut big = vec![0u8; n + 1];
        call(&mut big);
        out.extend_from_slice(&big[..n]);
    }
}
