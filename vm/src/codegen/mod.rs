//! Lowering the compiler's IR to machine code with Cranelift.
//!
//! Invariants:
//! - Every UC call is `load table_v[P]; call_indirect`: the table address is
//!   a constant of the version's code, so rebinding is one 8-byte store.
//! - Generated code has no relocations: every runtime address (context,
//!   tables, data, builtins, printf descriptors) is an immediate, so the bytes
//!   can be copied to their segment as they are. (The safepoint polls find
//!   the context in r15, Cranelift's pinned register, instead.)
//! - Frame pointers are kept (stack walking). A safepoint poll is
//!   `sp < ctx.limit` at procedure entry and `ctx.limit == u64::MAX` at loop
//!   back-edges, each a call of an argument-less stub when it fires (unless
//!   the benchmark-only switch turns polls off).

//!
//! `error.rs` says why a unit does not compile ([`CodegenError`]),
//! `lower.rs` is the translator from IR statements and expressions to
//! Cranelift IR; this file is the generator around it.

mod error;
mod lower;

pub use error::{CodegenError, Nesting, PlaceName};

use compiler::ir::{ParamTy, RetTy, Scalar, Signature, Static, Stmt, VarTy};
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self as clif, AbiParam, types};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::collections::HashMap;
use std::ffi::CString;

use crate::runtime::Printf;

static DUMPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// What generated code of one procedure needs to know about the world.
pub struct Env<'a> {
    /// Address of the [`crate::runtime::Ctx`] the code runs with, an immediate of
    /// its runtime calls (its polls read the same context through r15).
    pub ctx: u64,
    /// Address of the binding table of the code's version.
    pub table: u64,
    /// Start of the code's own segment (identifies it at safepoints and traps).
    pub self_pc: u64,
    /// Start of the data segment holding `statics` (0 when there are none).
    pub statics_base: u64,
    /// The statics `Place::Static` refers to (the procedure's own; for an
    /// mproc, the served procedure's new statics).
    pub statics: &'a [Static],
    /// Globals visible to the code: name → (address, type).
    pub globals: &'a HashMap<String, (u64, VarTy)>,
    /// Callable procedures of the version: name → (proc ID, signature).
    pub callees: &'a HashMap<String, (u32, Signature)>,
    /// For an mproc: the old statics' (offset, type), resolved by the loader.
    pub old_statics: &'a [(u32, VarTy)],
    /// Printf descriptors created for this code; owned by the version.
    pub printfs: &'a mut Vec<Box<Printf>>,
    /// String literals for `%s`; owned by the version.
    pub strings: &'a mut Vec<CString>,
    /// The program's memory, whose bounds the inline pointer check bakes
    /// in (SPEC 2.3; see [`crate::memory`]).
    pub mem: crate::memory::MemLayout,
    /// Emit safepoint polls (off only for the readiness benchmark; an
    /// mprocedure always has them, so that a runaway one can be stopped).
    pub safepoints: bool,
}

/// What [`Codegen::compile`] compiles: a procedure (an interprocedure is
/// compiled as one, with its procedure's old signature) or an mprocedure.
pub enum Unit<'a> {
    /// A procedure: its signature, locals and body.
    Proc {
        /// Signature.
        sig: &'a Signature,
        /// Local slots (parameters first).
        locals: &'a [compiler::ir::Local],
        /// Body.
        body: &'a [Stmt],
    },
    /// An mprocedure: one i64 parameter (the old data segment), no result.
    MProc {
        /// Locals of its body.
        locals: &'a [compiler::ir::Local],
        /// Body.
        body: &'a [Stmt],
    },
}

/// How hard Cranelift works on a load's code (see ARCHITECTURE.md, "Load
/// time").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// `opt_level=speed`, backtracking register allocation.
    Optimized,
    /// `opt_level=none`, single-pass register allocation: several times
    /// faster to compile, for loads of many procedures.
    Quick,
}

/// A reusable Cranelift compilation context: the VM keeps one for its loads
/// (behind the loader lock), and a parallel load makes one per thread.
/// It only turns units into bytes; declaring, defining and finalizing them
/// in a version's `JITModule` is the loader's (`load::Placer`).
pub struct Codegen {
    isa: OwnedTargetIsa,
    fctx: FunctionBuilderContext,
    ctx: cranelift_codegen::Context,
}

impl Codegen {
    /// A code generator for this machine.
    pub fn new() -> Result<Codegen, CodegenError> {
        Codegen::with_tier(Tier::Optimized)
    }

    /// A code generator of the given tier.
    pub fn with_tier(tier: Tier) -> Result<Codegen, CodegenError> {
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &'static str, v: &str| {
            f.set(k, v).map_err(|e| CodegenError::Setting {
                setting: k,
                err: e.to_string(),
            })
        };
        match tier {
            Tier::Optimized => set(&mut flags, "opt_level", "speed")?,
            Tier::Quick => {
                set(&mut flags, "opt_level", "none")?;
                set(&mut flags, "regalloc_algorithm", "single_pass")?;
            }
        }
        set(&mut flags, "preserve_frame_pointers", "true")?;
        // r15 holds the running code's context (set by podus_enter), so a
        // safepoint is one compare against memory and a branch.
        set(&mut flags, "enable_pinned_reg", "true")?;
        set(&mut flags, "unwind_info", "false")?;
        set(&mut flags, "is_pic", "false")?;
        set(
            &mut flags,
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        let isa = cranelift_native::builder()
            .map_err(|e| CodegenError::Isa(e.to_string()))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| CodegenError::Isa(e.to_string()))?;
        Ok(Codegen {
            isa,
            fctx: FunctionBuilderContext::new(),
            ctx: cranelift_codegen::Context::new(),
        })
    }

    /// The target this generator compiles for: a version's `JITModule` is
    /// built for the same one (see `load::load`).
    pub fn isa(&self) -> OwnedTargetIsa {
        self.isa.clone()
    }

    /// Compile one unit to bytes with no relocations, to be placed at
    /// `env.self_pc` (its traps and sleeps report that address).
    pub fn compile(&mut self, unit: &Unit, env: &mut Env) -> Result<Vec<u8>, CodegenError> {
        // Whatever a module holds, a load must end in code or an error, never
        // in a panic on the loading thread (which would also poison the VM's
        // state lock). After a panic the contexts are rebuilt from scratch.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.compile_inner(unit, env)
        }));
        match r {
            Ok(r) => r,
            Err(p) => {
                let what = p
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| p.downcast_ref::<&str>().copied())
                    .unwrap_or("unknown")
                    .to_string();
                self.fctx = FunctionBuilderContext::new();
                self.ctx = cranelift_codegen::Context::new();
                Err(CodegenError::Panicked(what))
            }
        }
    }

    fn compile_inner(&mut self, unit: &Unit, env: &mut Env) -> R<Vec<u8>> {
        self.ctx.clear();
        let (sig, locals, body, is_mproc) = match unit {
            Unit::Proc { sig, locals, body } => ((*sig).clone(), *locals, *body, false),
            Unit::MProc { locals, body } => (
                Signature {
                    params: vec![],
                    ret: RetTy::Void,
                },
                *locals,
                *body,
                true,
            ),
        };
        let mut csig = clif_sig(&sig);
        if is_mproc {
            csig.params.push(AbiParam::new(types::I64));
        }
        self.ctx.func = clif::Function::with_name_signature(clif::UserFuncName::user(0, 0), csig);
        let b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fctx);
        lower::lower(
            b,
            env,
            &sig,
            locals,
            body,
            is_mproc,
            self.isa.frontend_config(),
        )?;
        let code = self
            .ctx
            .compile(&*self.isa, &mut ControlPlane::default())
            .map_err(|e| CodegenError::Cranelift(format!("{:?}", e.inner)))?;
        if !code.buffer.relocs().is_empty() {
            return Err(CodegenError::Relocations);
        }
        let bytes = code.code_buffer().to_vec();
        // A developer's window into the JIT: PODUS_DUMP_CODE=DIR writes each
        // unit's machine code (disassemble with objdump -b binary -m i386:x86-64 -D).
        if let Some(dir) = std::env::var_os("PODUS_DUMP_CODE") {
            let n = DUMPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let _ = std::fs::write(
                std::path::Path::new(&dir).join(format!("unit{n}.bin")),
                &bytes,
            );
        }
        Ok(bytes)
    }
}

/// The machine type of a scalar: C's integer widths are Cranelift's
/// (`_Bool` an `i8` holding 0 or 1), `float` is `f32`.
fn clif_ty(s: Scalar) -> clif::Type {
    match s {
        Scalar::I8 | Scalar::U8 | Scalar::Bool => types::I8,
        Scalar::I16 | Scalar::U16 => types::I16,
        Scalar::I32 | Scalar::U32 => types::I32,
        Scalar::I64 | Scalar::U64 => types::I64,
        Scalar::F32 => types::F32,
        Scalar::F64 => types::F64,
    }
}

/// The machine signature of a UC signature (arrays are pointer + length).
pub fn clif_sig(sig: &Signature) -> clif::Signature {
    let mut s = clif::Signature::new(CallConv::SystemV);
    for p in &sig.params {
        match p {
            ParamTy::Scalar(t) => s.params.push(AbiParam::new(clif_ty(*t))),
            ParamTy::Ptr(_) => s.params.push(AbiParam::new(types::I64)),
            ParamTy::ArrayRef(_) => {
                s.params.push(AbiParam::new(types::I64));
                s.params.push(AbiParam::new(types::I64));
            }
        }
    }
    match sig.ret {
        RetTy::Scalar(t) => s.returns.push(AbiParam::new(clif_ty(t))),
        RetTy::Ptr(_) => s.returns.push(AbiParam::new(types::I64)),
        RetTy::Void => {}
    }
    s
}

/// Deepest nesting of statements and expressions a module's IR may have
/// (the lowering recurses once per level). Source within the compiler's
/// [`compiler::limits::MAX_NESTING`] stays inside it, and the checker
/// checks the same bound with the same count, so `ucc check` refuses what
/// the pup would; a forged module could otherwise exhaust the loading
/// thread's stack.
pub use compiler::limits::{MAX_IR_DEPTH, MAX_NESTING};

type R<T> = Result<T, CodegenError>;
