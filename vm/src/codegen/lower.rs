//! The translator: IR statements and expressions to Cranelift IR, one
//! procedure (or mprocedure) at a time, with its safepoint polls, runtime
//! traps and calls through the binding table.

use super::{CodegenError, Env, MAX_IR_DEPTH, Nesting, PlaceName, R, clif_sig, clif_ty};
use crate::runtime::{self, ConvKind, PrintPiece, Printf, TrapKind};
use compiler::ir::{
    Arg, BinOp, Builtin, Expr, ExprKind, FmtPiece, LocalTy, ParamTy, Place, PrintArg, RetTy,
    Scalar, Signature, Stmt, UnOp, VarTy,
};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    self as clif, AbiParam, Block, InstBuilder, MemFlagsData, SigRef, StackSlotData, StackSlotKind,
    TrapCode, Value, types,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, Variable};
use std::collections::HashMap;
use std::ffi::CString;

/// Lowers one unit's body into `b`'s function: the prologue (parameters,
/// zeroed locals, the entry poll), every statement, the default return.
pub(super) fn lower(
    b: FunctionBuilder<'_>,
    env: &mut Env<'_>,
    sig: &Signature,
    locals: &[compiler::ir::Local],
    body: &[Stmt],
    is_mproc: bool,
    frontend: TargetFrontendConfig,
) -> R<()> {
    let mut tx = Tx {
        b,
        env,
        locals: Vec::new(),
        loops: Vec::new(),
        ret: sig.ret,
        old_base: None,
        sigs: HashMap::new(),
        call_sites: 0,
        depth: 0,
        labels: HashMap::new(),
        placed_labels: std::collections::HashSet::new(),
        frame: None,
    };
    tx.prologue(sig, locals, is_mproc)?;
    for s in body {
        tx.stmt(s)?;
    }
    tx.default_return();
    if let Some(id) = tx.labels.keys().find(|id| !tx.placed_labels.contains(id)) {
        return Err(CodegenError::UndefinedLabel(*id));
    }
    tx.b.seal_all_blocks();
    tx.b.finalize(frontend);
    Ok(())
}

enum Slot {
    Var(Variable, Scalar),
    /// A local array, in the procedure's data-stack frame at `off`: in
    /// the program's memory, so that a pointer to it is one (SPEC 2.3).
    Array {
        off: u32,
        elem: Scalar,
        n: u32,
    },
    Ref {
        ptr: Variable,
        len: Variable,
        elem: Scalar,
    },
    /// A scalar whose address is taken, in the data-stack frame at `off`.
    Cell {
        off: u32,
        ty: Scalar,
    },
}

/// The procedure's frame on the data stack of its thread (SPEC 2.3):
/// where it starts, and the data-stack pointer to restore on return.
#[derive(Clone, Copy)]
struct Frame {
    base: Variable,
    saved: Variable,
}

/// Offsets in [`runtime::Ctx`] that generated code reads through r15.
const CTX_DSP: i32 = std::mem::offset_of!(runtime::Ctx, dsp) as i32;
const CTX_DSP_LO: i32 = std::mem::offset_of!(runtime::Ctx, dsp_lo) as i32;

enum LVal {
    Var(Variable, Scalar),
    Mem(Value, Scalar),
    /// `*p`: memory at a program address, checked at each access.
    Checked(Value, Scalar, u32),
}

struct Tx<'a, 'e, 'b> {
    b: FunctionBuilder<'b>,
    env: &'e mut Env<'a>,
    locals: Vec<Slot>,
    /// (continue target, break target) of enclosing loops and switches (a
    /// switch passes its loop's continue target on, or has none).
    loops: Vec<(Option<Block>, Block)>,
    ret: RetTy,
    old_base: Option<Value>,
    sigs: HashMap<Vec<u8>, SigRef>,
    call_sites: u32,
    /// Current expression nesting (bounded: the translator recurses).
    depth: u32,
    /// The block of each `goto` label, made at its first mention.
    labels: HashMap<u32, Block>,
    /// Labels whose statement has been lowered (each is placed once).
    placed_labels: std::collections::HashSet<u32>,
    /// The data-stack frame, when the procedure has arrays or addressed
    /// locals.
    frame: Option<Frame>,
}

impl Tx<'_, '_, '_> {
    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    fn prologue(
        &mut self,
        sig: &Signature,
        locals: &[compiler::ir::Local],
        is_mproc: bool,
    ) -> R<()> {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        let params: Vec<Value> = self.b.block_params(entry).to_vec();
        if params.len() != clif_sig(sig).params.len() + is_mproc as usize {
            return Err(CodegenError::ParamCount);
        }
        // The data-stack frame: arrays and addressed scalars, 8-aligned.
        let mut offs = vec![0u32; locals.len()];
        let mut size: u32 = 0;
        for (i, l) in locals.iter().enumerate() {
            let bytes = match l.ty {
                LocalTy::Array(t, n) => {
                    if n == 0 || n > 1 << 16 {
                        return Err(CodegenError::LocalArraySize {
                            name: l.name.clone(),
                            len: n,
                        });
                    }
                    t.size() * n
                }
                LocalTy::Addressed(_) => 8,
                _ => continue,
            };
            offs[i] = size;
            size = size.saturating_add(bytes.div_ceil(8) * 8);
        }
        let size = size.div_ceil(16) * 16;
        if size > 0 {
            self.enter_frame(size);
        }
        let mut pi = 0;
        for (i, l) in locals.iter().enumerate() {
            let slot = match l.ty {
                LocalTy::Scalar(_) | LocalTy::Ptr(_) => {
                    let t = match l.ty {
                        LocalTy::Scalar(t) => t,
                        _ => Scalar::U64,
                    };
                    let v = self.b.declare_var(clif_ty(t));
                    let init = if i < sig.params.len() {
                        let fits = match (sig.params[i], l.ty) {
                            (ParamTy::Ptr(_), LocalTy::Ptr(_)) => true,
                            (p, _) => p == ParamTy::Scalar(t),
                        };
                        if !fits {
                            return Err(CodegenError::ParamType(l.name.clone()));
                        }
                        pi += 1;
                        params[pi - 1]
                    } else {
                        self.zero(t)
                    };
                    self.b.def_var(v, init);
                    Slot::Var(v, t)
                }
                LocalTy::Addressed(t) => {
                    if i < sig.params.len() {
                        let fits = match sig.params[i] {
                            ParamTy::Ptr(_) => t == Scalar::U64,
                            p => p == ParamTy::Scalar(t),
                        };
                        if !fits {
                            return Err(CodegenError::ParamType(l.name.clone()));
                        }
                        let a = self.frame_addr(offs[i]);
                        self.b
                            .ins()
                            .store(MemFlagsData::trusted(), params[pi], a, 0);
                        pi += 1;
                    }
                    Slot::Cell {
                        off: offs[i],
                        ty: t,
                    }
                }
                LocalTy::ArrayRef(t) => {
                    if i >= sig.params.len() || sig.params[i] != ParamTy::ArrayRef(t) {
                        return Err(CodegenError::ArrayRefNotParam(l.name.clone()));
                    }
                    let ptr = self.b.declare_var(types::I64);
                    let len = self.b.declare_var(types::I64);
                    self.b.def_var(ptr, params[pi]);
                    self.b.def_var(len, params[pi + 1]);
                    pi += 2;
                    Slot::Ref { ptr, len, elem: t }
                }
                LocalTy::Array(t, n) => Slot::Array {
                    off: offs[i],
                    elem: t,
                    n,
                },
            };
            self.locals.push(slot);
        }
        if pi + is_mproc as usize != params.len() {
            return Err(CodegenError::ParamsAndLocals);
        }
        if is_mproc {
            self.old_base = Some(params[pi]);
        }
        self.poll(true);
        Ok(())
    }

    /// Takes `size` bytes of the thread's data stack for this frame and
    /// zeroes them (C leaves locals undefined, UC promises zero): a stack
    /// overflow if the data stack has no room.
    fn enter_frame(&mut self, size: u32) {
        let ctx = self.b.ins().get_pinned_reg(types::I64);
        let flags = MemFlagsData::trusted();
        let old = self.b.ins().load(types::I64, flags, ctx, CTX_DSP);
        let lo = self.b.ins().load(types::I64, flags, ctx, CTX_DSP_LO);
        let room = self.b.ins().isub(old, lo);
        let full = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, room, size as i64);
        self.trap_if(full, TrapKind::StackOverflow, 0);
        let new = self.b.ins().iadd_imm_s(old, -(size as i64));
        self.b.ins().store(flags, new, ctx, CTX_DSP);
        let base = self.b.declare_var(types::I64);
        let saved = self.b.declare_var(types::I64);
        self.b.def_var(base, new);
        self.b.def_var(saved, old);
        self.frame = Some(Frame { base, saved });
        if size <= 128 {
            let z = self.iconst(0);
            for k in 0..size / 8 {
                self.b.ins().store(flags, z, new, (8 * k) as i32);
            }
        } else {
            let z = self.b.ins().iconst(types::I32, 0);
            let len = self.iconst(size as i64);
            self.call_rt(
                libc::memset as *const () as u64,
                &[new, z, len],
                &[types::I64, types::I32, types::I64],
                Some(types::I64),
            );
        }
    }

    /// The address `off` bytes into the data-stack frame.
    fn frame_addr(&mut self, off: u32) -> Value {
        let f = self
            .frame
            .expect("a frame holds the procedure's arrays and cells");
        let base = self.b.use_var(f.base);
        self.b.ins().iadd_imm_s(base, off as i64)
    }

    /// Returns `vals`, giving the data-stack frame back first.
    fn ret_(&mut self, vals: &[Value]) {
        if let Some(f) = self.frame {
            let ctx = self.b.ins().get_pinned_reg(types::I64);
            let old = self.b.use_var(f.saved);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), old, ctx, CTX_DSP);
        }
        self.b.ins().return_(vals);
    }

    /// The inline pointer check of [`crate::memory`]: an access of `len`
    /// bytes at `addr` goes on only if it lies in the program's own
    /// memory (its data stacks, a live heap granule, a static segment);
    /// otherwise the program stops with a runtime error naming the fault.
    fn check_access(&mut self, addr: Value, len: u32, write: bool, span: u32) {
        use crate::layout::{REGION_SIZE, SEGMENT_SIZE, TYPE_SHIFT};
        let m = self.env.mem;
        let ok = self.b.create_block();
        let heap = self.b.create_block();
        let other = self.b.create_block();
        let seg = self.b.create_block();
        let fail = self.b.create_block();
        self.b.set_cold_block(fail);
        let hb = self.iconst(m.heap_base as i64);
        let d = self.b.ins().isub(addr, hb);
        let in_heap = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, d, m.heap_len as i64);
        self.b.ins().brif(in_heap, heap, &[], other, &[]);
        self.b.switch_to_block(heap);
        let g = self.b.ins().ushr_imm_u(d, 4);
        let sb = self.iconst(m.shadow_base as i64);
        let sa = self.b.ins().iadd(g, sb);
        let live = self
            .b
            .ins()
            .uload8(types::I32, MemFlagsData::trusted(), sa, 0);
        self.b.ins().brif(live, ok, &[], fail, &[]);
        self.b.switch_to_block(other);
        let ab = self.iconst(m.arena_base as i64);
        let a = self.b.ins().isub(addr, ab);
        let in_stacks = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, a, m.stacks_len as i64);
        self.b.ins().brif(in_stacks, ok, &[], seg, &[]);
        self.b.switch_to_block(seg);
        let rb = self.iconst(m.space_base as i64);
        let off = self.b.ins().isub(addr, rb);
        let in_region = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, off, REGION_SIZE as i64);
        let ty = self.b.ins().ushr_imm_u(off, TYPE_SHIFT as i64);
        let ty = self.b.ins().band_imm_u(ty, 7);
        let is_data = self.b.ins().icmp_imm_s(IntCC::Equal, ty, 3);
        let disp = self.b.ins().band_imm_u(off, (SEGMENT_SIZE - 1) as i64);
        let end = self.b.ins().iadd_imm_s(disp, len as i64);
        let inside =
            self.b
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, end, SEGMENT_SIZE as i64);
        let both = self.b.ins().band(in_region, is_data);
        let all = self.b.ins().band(both, inside);
        self.b.ins().brif(all, ok, &[], fail, &[]);
        self.b.switch_to_block(fail);
        let ctx = self.iconst(self.env.ctx as i64);
        let lw = self.iconst((len as u64 | (write as u64) << 63) as i64);
        self.call_rt_at(
            runtime::rt_bad_access as *const () as u64,
            &[ctx, addr, lw],
            &[types::I64; 3],
            span,
            None,
        );
        self.b.ins().trap(TrapCode::unwrap_user(2));
        self.b.switch_to_block(ok);
    }

    /// The position arguments of a runtime entry that may stop the
    /// program: frame pointer, code address, source offset.
    fn here(&mut self, span: u32) -> [Value; 3] {
        let fp = self.b.ins().get_frame_pointer(types::I64);
        let pc = self.iconst(self.env.self_pc as i64);
        let sp = self.b.ins().iconst(types::I32, span as i64);
        [fp, pc, sp]
    }

    fn zero(&mut self, t: Scalar) -> Value {
        match t {
            Scalar::F32 => self.b.ins().f32const(0.0),
            Scalar::F64 => self.b.ins().f64const(0.0),
            t => self.b.ins().iconst(clif_ty(t), 0),
        }
    }

    /// A comparison's `i8` flag as C's `int` 0/1.
    fn flag(&mut self, c: Value) -> Value {
        self.b.ins().uextend(types::I32, c)
    }

    /// A condition: a value of any integer type, tested against zero
    /// (the checker turned floating conditions into comparisons).
    fn cond(&mut self, e: &Expr) -> R<Value> {
        match e.ty {
            Some(t) if t.is_integer() => self.scalar(e, t),
            found => Err(CodegenError::Expected {
                expected: Scalar::I32,
                found,
            }),
        }
    }

    /// An integer value of any type, widened to 64 bits as its type
    /// says (array indices, switch values).
    fn wide(&mut self, e: &Expr) -> R<Value> {
        let v = self.cond(e)?;
        let t = e.ty.expect("cond checked the type");
        Ok(self.convert(v, t, Scalar::I64))
    }

    /// A safepoint poll: `if sp < ctx.limit { safepoint_stub() }` (the stub
    /// takes no arguments; see below).
    ///
    /// At procedure entry the check is `sp < ctx.limit`: the stack check and
    /// the request check in one compare. A loop back-edge cannot grow the
    /// stack, so there it only asks whether a request raised the word to
    /// `u64::MAX` — without reading sp, whose copy Cranelift would otherwise
    /// keep alive in a register across the whole loop.
    fn poll(&mut self, entry: bool) {
        if !self.env.safepoints {
            return;
        }
        let ctx = self.b.ins().get_pinned_reg(types::I64);
        let lim = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), ctx, 0);
        let below = if entry {
            let sp = self.b.ins().get_stack_pointer(types::I64);
            self.b.ins().icmp(IntCC::UnsignedLessThan, sp, lim)
        } else {
            self.b.ins().icmp_imm_s(IntCC::Equal, lim, -1)
        };
        let slow = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(below, slow, &[], cont, &[]);
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        // The stub finds the context (r15), the frame (rbp), the stack
        // pointer and the procedure (its return address) itself, and saves
        // every register: the call clobbers nothing and takes no argument,
        // so the poll constrains register allocation not at all.
        let sig = clif::Signature::new(CallConv::PreserveAll);
        let sr = self.sigref(sig);
        let stub = self.iconst(runtime::safepoint_stub_addr(entry) as i64);
        self.b.ins().call_indirect(sr, stub, &[]);
        self.b.ins().jump(cont, &[]);
        self.b.switch_to_block(cont);
    }

    fn call_rt(
        &mut self,
        f: u64,
        args: &[Value],
        tys: &[clif::Type],
        ret: Option<clif::Type>,
    ) -> Option<Value> {
        let mut s = clif::Signature::new(CallConv::SystemV);
        s.params.extend(tys.iter().map(|t| AbiParam::new(*t)));
        if let Some(r) = ret {
            s.returns.push(AbiParam::new(r));
        }
        let sr = self.sigref(s);
        let fv = self.iconst(f as i64);
        let call = self.b.ins().call_indirect(sr, fv, args);
        self.b.inst_results(call).first().copied()
    }

    /// [`Self::call_rt`] of a runtime entry that may stop the program:
    /// `args` followed by the position arguments of [`Self::here`].
    fn call_rt_at(
        &mut self,
        f: u64,
        args: &[Value],
        tys: &[clif::Type],
        span: u32,
        ret: Option<clif::Type>,
    ) -> Option<Value> {
        let at = self.here(span);
        let vals: Vec<Value> = args.iter().copied().chain(at).collect();
        let tys: Vec<clif::Type> = tys
            .iter()
            .copied()
            .chain([types::I64, types::I64, types::I32])
            .collect();
        self.call_rt(f, &vals, &tys, ret)
    }

    fn sigref(&mut self, s: clif::Signature) -> SigRef {
        let key = format!("{s}").into_bytes();
        if let Some(r) = self.sigs.get(&key) {
            return *r;
        }
        let r = self.b.import_signature(s);
        self.sigs.insert(key, r);
        r
    }

    /// Report a runtime error and never come back.
    fn trap(&mut self, kind: TrapKind, span: u32) {
        let ctx = self.iconst(self.env.ctx as i64);
        let k = self.b.ins().iconst(types::I32, kind as i64);
        let fp = self.b.ins().get_frame_pointer(types::I64);
        let pc = self.iconst(self.env.self_pc as i64);
        let sp = self.b.ins().iconst(types::I32, span as i64);
        self.call_rt(
            runtime::trap_addr(),
            &[ctx, k, fp, pc, sp],
            &[types::I64, types::I32, types::I64, types::I64, types::I32],
            None,
        );
        self.b.ins().trap(TrapCode::unwrap_user(1));
    }

    /// Branch to a cold trap block when `cond` is nonzero.
    fn trap_if(&mut self, cond: Value, kind: TrapKind, span: u32) {
        let bad = self.b.create_block();
        let ok = self.b.create_block();
        self.b.ins().brif(cond, bad, &[], ok, &[]);
        self.b.switch_to_block(bad);
        self.b.set_cold_block(bad);
        self.trap(kind, span);
        self.b.switch_to_block(ok);
    }

    /// Start a fresh (unreachable) block after a terminator.
    fn label_block(&mut self, id: u32) -> Block {
        if let Some(b) = self.labels.get(&id) {
            return *b;
        }
        let b = self.b.create_block();
        self.labels.insert(id, b);
        b
    }

    fn dead_block(&mut self) {
        let b = self.b.create_block();
        self.b.switch_to_block(b);
    }

    fn default_return(&mut self) {
        match self.ret {
            RetTy::Void => self.ret_(&[]),
            RetTy::Scalar(t) => {
                let z = self.zero(t);
                self.ret_(&[z]);
            }
            RetTy::Ptr(_) => {
                let z = self.iconst(0);
                self.ret_(&[z]);
            }
        }
    }

    fn stmts(&mut self, ss: &[Stmt]) -> R<()> {
        for s in ss {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_IR_DEPTH {
            return Err(CodegenError::TooDeep(Nesting::Statements));
        }
        let r = self.stmt_unchecked(s);
        self.depth -= 1;
        r
    }

    fn stmt_unchecked(&mut self, s: &Stmt) -> R<()> {
        match s {
            Stmt::Expr(e) => {
                self.expr(e)?;
            }
            Stmt::Block(ss) => self.stmts(ss)?,
            Stmt::If { cond, then, els } => {
                let c = self.cond(cond)?;
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                let join = self.b.create_block();
                self.b.ins().brif(c, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                self.stmts(then)?;
                self.b.ins().jump(join, &[]);
                self.b.switch_to_block(eb);
                self.stmts(els)?;
                self.b.ins().jump(join, &[]);
                self.b.switch_to_block(join);
            }
            Stmt::Loop { cond, body, step } => {
                let header = self.b.create_block();
                let bodyb = self.b.create_block();
                let stepb = self.b.create_block();
                let exit = self.b.create_block();
                self.b.ins().jump(header, &[]);
                self.b.switch_to_block(header);
                match cond {
                    Some(c) => {
                        let c = self.cond(c)?;
                        self.b.ins().brif(c, bodyb, &[], exit, &[]);
                    }
                    None => {
                        self.b.ins().jump(bodyb, &[]);
                    }
                }
                self.b.switch_to_block(bodyb);
                self.loops.push((Some(stepb), exit));
                self.stmts(body)?;
                self.loops.pop();
                self.b.ins().jump(stepb, &[]);
                self.b.switch_to_block(stepb);
                self.stmts(step)?;
                self.poll(false);
                self.b.ins().jump(header, &[]);
                self.b.switch_to_block(exit);
            }
            Stmt::DoWhile { body, cond } => {
                let bodyb = self.b.create_block();
                let test = self.b.create_block();
                let exit = self.b.create_block();
                self.b.ins().jump(bodyb, &[]);
                self.b.switch_to_block(bodyb);
                self.loops.push((Some(test), exit));
                self.stmts(body)?;
                self.loops.pop();
                self.b.ins().jump(test, &[]);
                self.b.switch_to_block(test);
                let c = self.cond(cond)?;
                let again = self.b.create_block();
                self.b.ins().brif(c, again, &[], exit, &[]);
                self.b.switch_to_block(again);
                self.poll(false);
                self.b.ins().jump(bodyb, &[]);
                self.b.switch_to_block(exit);
            }
            Stmt::Switch { value, arms } => {
                let v = self.scalar(value, Scalar::I64)?;
                let exit = self.b.create_block();
                let blocks: Vec<Block> = arms.iter().map(|_| self.b.create_block()).collect();
                let mut sw = cranelift_frontend::Switch::new();
                let mut default = exit;
                let mut seen = std::collections::HashSet::new();
                for (arm, blk) in arms.iter().zip(&blocks) {
                    for l in &arm.labels {
                        if !seen.insert(*l) {
                            return Err(CodegenError::DuplicateCase(*l));
                        }
                        sw.set_entry(*l as u64 as u128, *blk);
                    }
                    if arm.default {
                        default = *blk;
                    }
                }
                sw.emit(&mut self.b, v, default);
                let cont = self.loops.last().and_then(|l| l.0);
                self.loops.push((cont, exit));
                for (i, arm) in arms.iter().enumerate() {
                    self.b.switch_to_block(blocks[i]);
                    self.stmts(&arm.body)?;
                    // Fall through into the next arm, or leave.
                    let next = blocks.get(i + 1).copied().unwrap_or(exit);
                    self.b.ins().jump(next, &[]);
                }
                self.loops.pop();
                self.b.switch_to_block(exit);
            }
            Stmt::Label(id) => {
                let blk = self.label_block(*id);
                if !self.placed_labels.insert(*id) {
                    return Err(CodegenError::DuplicateLabel(*id));
                }
                self.b.ins().jump(blk, &[]);
                self.b.switch_to_block(blk);
            }
            Stmt::Goto(id) => {
                // A backward goto is a loop: poll as at a back edge.
                let blk = self.label_block(*id);
                self.poll(false);
                self.b.ins().jump(blk, &[]);
                self.dead_block();
            }
            Stmt::Break | Stmt::Continue => {
                let &(cont, brk) = self.loops.last().ok_or(CodegenError::BreakOutsideLoop)?;
                let target = if matches!(s, Stmt::Break) {
                    brk
                } else {
                    cont.ok_or(CodegenError::ContinueOutsideLoop)?
                };
                self.b.ins().jump(target, &[]);
                self.dead_block();
            }
            Stmt::Return(e) => {
                let ret = match self.ret {
                    RetTy::Ptr(_) => RetTy::Scalar(Scalar::U64),
                    r => r,
                };
                match (e, ret) {
                    (None, RetTy::Void) => self.ret_(&[]),
                    (None, RetTy::Scalar(t)) => {
                        let z = self.zero(t);
                        self.ret_(&[z]);
                    }
                    (_, RetTy::Ptr(_)) => unreachable!("mapped to unsigned long above"),
                    (Some(e), RetTy::Scalar(t)) => {
                        // An iproc returns its procedure's old return type,
                        // which its body may not have been checked against.
                        let from = e.ty.ok_or(CodegenError::NoValue {
                            what: "returned expression",
                        })?;
                        let v = self.scalar(e, from)?;
                        let v = self.convert(v, from, t);
                        self.ret_(&[v]);
                    }
                    (Some(e), RetTy::Void) => {
                        self.expr(e)?;
                        self.ret_(&[]);
                    }
                }
                self.dead_block();
            }
        }
        Ok(())
    }

    fn int(&mut self, e: &Expr) -> R<Value> {
        self.scalar(e, Scalar::I32)
    }

    fn scalar(&mut self, e: &Expr, t: Scalar) -> R<Value> {
        if e.ty != Some(t) {
            return Err(CodegenError::Expected {
                expected: t,
                found: e.ty,
            });
        }
        self.expr(e)?
            .ok_or(CodegenError::NoValue { what: "expression" })
    }

    fn lval(&mut self, p: &Place) -> R<LVal> {
        Ok(match p {
            Place::Local(id) => match self.locals.get(*id as usize) {
                Some(Slot::Var(v, t)) => LVal::Var(*v, *t),
                Some(&Slot::Cell { off, ty }) => LVal::Mem(self.frame_addr(off), ty),
                _ => return Err(CodegenError::NotScalar(PlaceName::Local(*id))),
            },
            Place::Deref { addr, ty } => {
                let a = self.scalar(addr, Scalar::U64)?;
                LVal::Checked(a, *ty, addr.span.start)
            }
            Place::Static(id) => {
                let s = self
                    .env
                    .statics
                    .get(*id as usize)
                    .ok_or(CodegenError::NoSuchPlace(PlaceName::StaticId(*id)))?;
                let t = match s.ty {
                    VarTy::Scalar(t) => t,
                    VarTy::Ptr(_) => Scalar::U64,
                    VarTy::Array(..) => {
                        return Err(CodegenError::NotScalar(PlaceName::Static(s.name.clone())));
                    }
                };
                LVal::Mem(
                    self.iconst((self.env.statics_base + s.offset as u64) as i64),
                    t,
                )
            }
            Place::Global(name) => {
                let &(addr, ty) =
                    self.env.globals.get(name).ok_or_else(|| {
                        CodegenError::NoSuchPlace(PlaceName::Global(name.clone()))
                    })?;
                let t = match ty {
                    VarTy::Scalar(t) => t,
                    VarTy::Ptr(_) => Scalar::U64,
                    VarTy::Array(..) => {
                        return Err(CodegenError::NotScalar(PlaceName::Global(name.clone())));
                    }
                };
                LVal::Mem(self.iconst(addr as i64), t)
            }
            Place::OldStatic(id) => {
                let &(off, ty) = self
                    .env
                    .old_statics
                    .get(*id as usize)
                    .ok_or(CodegenError::NoSuchPlace(PlaceName::OldStatic(*id)))?;
                let t = match ty {
                    VarTy::Scalar(t) => t,
                    VarTy::Ptr(_) => Scalar::U64,
                    VarTy::Array(..) => {
                        return Err(CodegenError::NotScalar(PlaceName::OldStatic(*id)));
                    }
                };
                let base = self.old_base.ok_or(CodegenError::OldOutsideMproc)?;
                LVal::Mem(self.b.ins().iadd_imm_s(base, off as i64), t)
            }
            Place::Index { base, index } => {
                let (ptr, len, elem) = self.array(base)?;
                let i = self.wide(index)?;
                let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i, len);
                self.trap_if(oob, TrapKind::OutOfBounds, index.span.start);
                let off = self
                    .b
                    .ins()
                    .ishl_imm_u(i, elem.size().trailing_zeros() as i64);
                LVal::Mem(self.b.ins().iadd(ptr, off), elem)
            }
        })
    }

    /// An array place: (address of element 0, length, element type).
    fn array(&mut self, p: &Place) -> R<(Value, Value, Scalar)> {
        Ok(match p {
            Place::Local(id) => match self.locals.get(*id as usize) {
                Some(&Slot::Array { off, elem, n }) => {
                    let a = self.frame_addr(off);
                    (a, self.iconst(n as i64), elem)
                }
                Some(Slot::Ref { ptr, len, elem }) => {
                    let (ptr, len, elem) = (*ptr, *len, *elem);
                    (self.b.use_var(ptr), self.b.use_var(len), elem)
                }
                _ => return Err(CodegenError::NotArray(PlaceName::Local(*id))),
            },
            Place::Static(id) => {
                let s = self
                    .env
                    .statics
                    .get(*id as usize)
                    .ok_or(CodegenError::NoSuchPlace(PlaceName::StaticId(*id)))?;
                let VarTy::Array(t, n) = s.ty else {
                    return Err(CodegenError::NotArray(PlaceName::Static(s.name.clone())));
                };
                let a = self.env.statics_base + s.offset as u64;
                (self.iconst(a as i64), self.iconst(n as i64), t)
            }
            Place::Global(name) => {
                let &(addr, ty) =
                    self.env.globals.get(name).ok_or_else(|| {
                        CodegenError::NoSuchPlace(PlaceName::Global(name.clone()))
                    })?;
                let VarTy::Array(t, n) = ty else {
                    return Err(CodegenError::NotArray(PlaceName::Global(name.clone())));
                };
                (self.iconst(addr as i64), self.iconst(n as i64), t)
            }
            Place::OldStatic(id) => {
                let &(off, ty) = self
                    .env
                    .old_statics
                    .get(*id as usize)
                    .ok_or(CodegenError::NoSuchPlace(PlaceName::OldStatic(*id)))?;
                let VarTy::Array(t, n) = ty else {
                    return Err(CodegenError::NotArray(PlaceName::OldStatic(*id)));
                };
                let base = self.old_base.ok_or(CodegenError::OldOutsideMproc)?;
                (
                    self.b.ins().iadd_imm_s(base, off as i64),
                    self.iconst(n as i64),
                    t,
                )
            }
            Place::Index { .. } | Place::Deref { .. } => {
                return Err(CodegenError::ArrayOfArrays);
            }
        })
    }

    fn read(&mut self, lv: &LVal) -> Value {
        match *lv {
            LVal::Var(v, _) => self.b.use_var(v),
            LVal::Mem(a, t) => self.b.ins().load(clif_ty(t), MemFlagsData::trusted(), a, 0),
            LVal::Checked(a, t, span) => {
                self.check_access(a, t.size(), false, span);
                // The check admits exactly the program's own mapped memory.
                self.b.ins().load(clif_ty(t), MemFlagsData::trusted(), a, 0)
            }
        }
    }

    fn write(&mut self, lv: &LVal, v: Value) {
        match *lv {
            LVal::Var(var, _) => self.b.def_var(var, v),
            LVal::Mem(a, _) => {
                self.b.ins().store(MemFlagsData::trusted(), v, a, 0);
            }
            LVal::Checked(a, t, span) => {
                self.check_access(a, t.size(), true, span);
                self.b.ins().store(MemFlagsData::trusted(), v, a, 0);
            }
        }
    }

    fn lval_ty(lv: &LVal) -> Scalar {
        match *lv {
            LVal::Var(_, t) | LVal::Mem(_, t) | LVal::Checked(_, t, _) => t,
        }
    }

    /// Converts a value between scalar types, as [`ExprKind::Cast`] says:
    /// integers are extended by their source's signedness or truncated;
    /// to `_Bool` is a test against zero; integer → floating rounds;
    /// floating → integer truncates toward zero, saturating at 32 bits
    /// for the narrow types and at the target's width otherwise (NaN → 0;
    /// out of range is undefined in C).
    fn convert(&mut self, v: Value, from: Scalar, to: Scalar) -> Value {
        if from == to {
            return v;
        }
        let (ft, tt) = (clif_ty(from), clif_ty(to));
        match (from.is_float(), to.is_float()) {
            (false, false) => {
                if to == Scalar::Bool {
                    return self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0);
                }
                if ft == tt {
                    v
                } else if ft.bits() > tt.bits() {
                    self.b.ins().ireduce(tt, v)
                } else if from.is_signed() {
                    self.b.ins().sextend(tt, v)
                } else {
                    self.b.ins().uextend(tt, v)
                }
            }
            (false, true) => {
                // Through 64 bits, so that every source width is one the
                // conversion instructions take.
                let wide = if from.is_signed() {
                    Scalar::I64
                } else {
                    Scalar::U64
                };
                let w = self.convert(v, from, wide);
                if from == Scalar::U64 {
                    self.b.ins().fcvt_from_uint(tt, w)
                } else {
                    self.b.ins().fcvt_from_sint(tt, w)
                }
            }
            (true, true) => {
                if to == Scalar::F64 {
                    self.b.ins().fpromote(tt, v)
                } else {
                    self.b.ins().fdemote(tt, v)
                }
            }
            (true, false) => {
                if to == Scalar::Bool {
                    let z = self.zero(from);
                    return self.b.ins().fcmp(FloatCC::NotEqual, v, z);
                }
                match to {
                    Scalar::I64 | Scalar::I32 => self.b.ins().fcvt_to_sint_sat(tt, v),
                    Scalar::U64 | Scalar::U32 => self.b.ins().fcvt_to_uint_sat(tt, v),
                    _ => {
                        let w = self.b.ins().fcvt_to_sint_sat(types::I32, v);
                        self.b.ins().ireduce(tt, w)
                    }
                }
            }
        }
    }

    fn binop(&mut self, op: BinOp, t: Scalar, l: Value, r: Value, span: u32) -> R<Value> {
        use BinOp::*;
        let ty = clif_ty(t);
        Ok(match t {
            t if t.is_integer() => match op {
                Add => self.b.ins().iadd(l, r),
                Sub => self.b.ins().isub(l, r),
                Mul => self.b.ins().imul(l, r),
                BitAnd => self.b.ins().band(l, r),
                BitOr => self.b.ins().bor(l, r),
                BitXor => self.b.ins().bxor(l, r),
                Shl | Shr | UShr => {
                    // A count outside 0..width-1 (negative ones too, as
                    // unsigned) is a runtime error rather than C's
                    // undefined behaviour.
                    let bad =
                        self.b
                            .ins()
                            .icmp_imm_u(IntCC::UnsignedGreaterThan, r, t.bits() as i64 - 1);
                    let kind = if t.bits() == 64 {
                        TrapKind::BadShift
                    } else {
                        TrapKind::BadShift32
                    };
                    self.trap_if(bad, kind, span);
                    match op {
                        Shl => self.b.ins().ishl(l, r),
                        Shr => self.b.ins().sshr(l, r),
                        _ => self.b.ins().ushr(l, r),
                    }
                }
                UDiv | URem => {
                    let zero = self.b.ins().icmp_imm_s(IntCC::Equal, r, 0);
                    let kind = if op == UDiv {
                        TrapKind::DivByZero
                    } else {
                        TrapKind::RemByZero
                    };
                    self.trap_if(zero, kind, span);
                    if op == UDiv {
                        self.b.ins().udiv(l, r)
                    } else {
                        self.b.ins().urem(l, r)
                    }
                }
                ULt | ULe | UGt | UGe => {
                    let cc = match op {
                        ULt => IntCC::UnsignedLessThan,
                        ULe => IntCC::UnsignedLessThanOrEqual,
                        UGt => IntCC::UnsignedGreaterThan,
                        _ => IntCC::UnsignedGreaterThanOrEqual,
                    };
                    let c = self.b.ins().icmp(cc, l, r);
                    self.flag(c)
                }
                Div | Rem => {
                    let zero = self.b.ins().icmp_imm_s(IntCC::Equal, r, 0);
                    let kind = if op == Div {
                        TrapKind::DivByZero
                    } else {
                        TrapKind::RemByZero
                    };
                    self.trap_if(zero, kind, span);
                    // MIN / -1 wraps (and MIN % -1 is 0) instead of faulting:
                    // divide by 1 in that case and fix the quotient up.
                    let m1 = self.b.ins().icmp_imm_s(IntCC::Equal, r, -1);
                    let one = self.b.ins().iconst(ty, 1);
                    let d = self.b.ins().select(m1, one, r);
                    if op == Div {
                        let q = self.b.ins().sdiv(l, d);
                        let neg = self.b.ins().ineg(l);
                        self.b.ins().select(m1, neg, q)
                    } else {
                        self.b.ins().srem(l, d)
                    }
                }
                Eq | Ne | Lt | Le | Gt | Ge => {
                    let cc = match op {
                        Eq => IntCC::Equal,
                        Ne => IntCC::NotEqual,
                        Lt => IntCC::SignedLessThan,
                        Le => IntCC::SignedLessThanOrEqual,
                        Gt => IntCC::SignedGreaterThan,
                        _ => IntCC::SignedGreaterThanOrEqual,
                    };
                    let c = self.b.ins().icmp(cc, l, r);
                    self.flag(c)
                }
            },
            _ => match op {
                Add => self.b.ins().fadd(l, r),
                Sub => self.b.ins().fsub(l, r),
                Mul => self.b.ins().fmul(l, r),
                Div => self.b.ins().fdiv(l, r),
                Rem | BitAnd | BitOr | BitXor | Shl | Shr | UShr | UDiv | URem | ULt | ULe
                | UGt | UGe => return Err(CodegenError::DoubleOperator(format!("{op:?}"))),
                Eq | Ne | Lt | Le | Gt | Ge => {
                    let cc = match op {
                        Eq => FloatCC::Equal,
                        Ne => FloatCC::NotEqual,
                        Lt => FloatCC::LessThan,
                        Le => FloatCC::LessThanOrEqual,
                        Gt => FloatCC::GreaterThan,
                        _ => FloatCC::GreaterThanOrEqual,
                    };
                    let c = self.b.ins().fcmp(cc, l, r);
                    self.flag(c)
                }
            },
        })
    }

    /// Lower an expression and check that what it produced is what the IR
    /// says it is. The pup validates everything it is sent: a module that
    /// decodes but whose types do not add up is refused here, with a load
    /// error, before Cranelift (whose verifier is off in release builds) sees
    /// an ill-typed instruction.
    fn expr(&mut self, e: &Expr) -> R<Option<Value>> {
        self.depth += 1;
        if self.depth > MAX_IR_DEPTH {
            return Err(CodegenError::TooDeep(Nesting::Expression));
        }
        let v = self.expr_unchecked(e);
        self.depth -= 1;
        match (v?, e.ty) {
            (Some(v), Some(t)) if self.b.func.dfg.value_type(v) == clif_ty(t) => Ok(Some(v)),
            (Some(_), Some(t)) => Err(CodegenError::ClaimsType(t)),
            (None, Some(t)) => Err(CodegenError::TypedNoValue(t)),
            (v, None) => Ok(v),
        }
    }

    fn expr_unchecked(&mut self, e: &Expr) -> R<Option<Value>> {
        let span = e.span.start;
        let v = match &e.kind {
            ExprKind::Int(i) => match e.ty {
                Some(Scalar::F32) => self.b.ins().f32const(*i as f32),
                Some(Scalar::F64) => self.b.ins().f64const(*i as f64),
                Some(t) => self.b.ins().iconst(clif_ty(t), t.wrap(*i)),
                None => return Err(CodegenError::NoValue { what: "literal" }),
            },
            ExprKind::Double(d) => match e.ty {
                Some(Scalar::F32) => self.b.ins().f32const(*d as f32),
                _ => self.b.ins().f64const(*d),
            },
            ExprKind::Load(p) => {
                let lv = self.lval(p)?;
                self.read(&lv)
            }
            ExprKind::Assign { place, op, value } => {
                let lv = self.lval(place)?;
                let t = Self::lval_ty(&lv);
                let new = match op {
                    None => self.scalar(value, t)?,
                    Some(op) => {
                        // Computed in the value's type (C's common type),
                        // then converted back to the place's.
                        let cur = self.read(&lv);
                        let ot = value.ty.ok_or(CodegenError::NoValue { what: "operand" })?;
                        let r = self.scalar(value, ot)?;
                        let cur = self.convert(cur, t, ot);
                        let v = self.binop(*op, ot, cur, r, span)?;
                        self.convert(v, ot, t)
                    }
                };
                self.write(&lv, new);
                new
            }
            ExprKind::IncDec {
                place,
                delta,
                prefix,
            } => {
                let lv = self.lval(place)?;
                let cur = self.read(&lv);
                let new = match Self::lval_ty(&lv) {
                    Scalar::F64 => {
                        let d = self.b.ins().f64const(*delta as f64);
                        self.b.ins().fadd(cur, d)
                    }
                    Scalar::F32 => {
                        let d = self.b.ins().f32const(*delta as f32);
                        self.b.ins().fadd(cur, d)
                    }
                    // `b++` sets a _Bool; `b--` flips it (C11 6.5.2.4).
                    Scalar::Bool if *delta > 0 => self.b.ins().iconst(types::I8, 1),
                    Scalar::Bool => self.b.ins().bxor_imm_u(cur, 1),
                    _ => self.b.ins().iadd_imm_s(cur, *delta as i64),
                };
                self.write(&lv, new);
                if *prefix { new } else { cur }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let t = lhs.ty.ok_or(CodegenError::NoValue { what: "operand" })?;
                let l = self.scalar(lhs, t)?;
                let r = self.scalar(rhs, t)?;
                self.binop(*op, t, l, r, rhs.span.start)?
            }
            ExprKind::Unary { op, operand } => {
                let t = operand
                    .ty
                    .ok_or(CodegenError::NoValue { what: "operand" })?;
                let x = self.scalar(operand, t)?;
                if op == &UnOp::Not && e.ty != Some(Scalar::I32) {
                    return Err(CodegenError::NotYieldsInt);
                }
                match (op, t.is_float()) {
                    (UnOp::Neg, false) => self.b.ins().ineg(x),
                    (UnOp::Neg, true) => self.b.ins().fneg(x),
                    (UnOp::BitNot, false) => self.b.ins().bnot(x),
                    (UnOp::BitNot, true) => {
                        return Err(CodegenError::DoubleOperator("~".into()));
                    }
                    (UnOp::Not, false) => {
                        let c = self.b.ins().icmp_imm_s(IntCC::Equal, x, 0);
                        self.flag(c)
                    }
                    (UnOp::Not, true) => {
                        let z = self.zero(t);
                        let c = self.b.ins().fcmp(FloatCC::Equal, x, z);
                        self.flag(c)
                    }
                }
            }
            ExprKind::Logic { and, lhs, rhs } => {
                let l = self.cond(lhs)?;
                let rhs_b = self.b.create_block();
                let join = self.b.create_block();
                let res = self.b.append_block_param(join, types::I32);
                let lb = self.b.ins().icmp_imm_s(IntCC::NotEqual, l, 0);
                let lb = self.flag(lb);
                if *and {
                    self.b.ins().brif(l, rhs_b, &[], join, &[lb.into()]);
                } else {
                    self.b.ins().brif(l, join, &[lb.into()], rhs_b, &[]);
                }
                self.b.switch_to_block(rhs_b);
                let r = self.cond(rhs)?;
                let rb = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                let rb = self.flag(rb);
                self.b.ins().jump(join, &[rb.into()]);
                self.b.switch_to_block(join);
                res
            }
            ExprKind::Cast { to, operand } => {
                let from = operand.ty.ok_or(CodegenError::NoValue {
                    what: "cast operand",
                })?;
                let x = self.scalar(operand, from)?;
                self.convert(x, from, *to)
            }
            ExprKind::Cond { cond, then, els } => {
                if then.ty != e.ty || els.ty != e.ty {
                    return Err(CodegenError::CondOperands);
                }
                let c = self.cond(cond)?;
                let tb = self.b.create_block();
                let eb = self.b.create_block();
                let join = self.b.create_block();
                let res = e.ty.map(|t| self.b.append_block_param(join, clif_ty(t)));
                self.b.ins().brif(c, tb, &[], eb, &[]);
                for (blk, arm) in [(tb, then), (eb, els)] {
                    self.b.switch_to_block(blk);
                    let v = self.expr(arm)?;
                    match v {
                        Some(v) => self.b.ins().jump(join, &[v.into()]),
                        None => self.b.ins().jump(join, &[]),
                    };
                }
                self.b.switch_to_block(join);
                match res {
                    Some(r) => r,
                    None => return Ok(None),
                }
            }
            ExprKind::Comma { first, then } => {
                self.expr(first)?;
                return self.expr(then);
            }
            ExprKind::Call { callee, args } => return self.call(callee, args),
            ExprKind::Len(p) => {
                let (_, len, _) = self.array(p)?;
                self.b.ins().ireduce(types::I32, len)
            }
            ExprKind::Printf { pieces, args } => {
                self.printf(pieces, args, span)?;
                return Ok(None);
            }
            ExprKind::Builtin { which, args } => return self.builtin(*which, args, span),
            ExprKind::AddrOf(p) => match self.lval(p)? {
                LVal::Mem(a, _) | LVal::Checked(a, _, _) => a,
                LVal::Var(..) => return Err(CodegenError::NotAddressable),
            },
            ExprKind::Libc { which, args, .. } => {
                let ss = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8 * args.len().max(1) as u32,
                    3,
                ));
                for (i, a) in args.iter().enumerate() {
                    let t = a.ty.ok_or(CodegenError::NoValue {
                        what: "C library argument",
                    })?;
                    let v = self.scalar(a, t)?;
                    let v = self.convert(v, t, Scalar::I64);
                    self.b.ins().stack_store(types::I64, v, ss, 8 * i as i32);
                }
                let ctx = self.iconst(self.env.ctx as i64);
                let w = self.b.ins().iconst(types::I32, *which as i64);
                let ap = self.b.ins().stack_addr(types::I64, ss, 0);
                let r = self
                    .call_rt_at(
                        runtime::rt_libc as *const () as u64,
                        &[ctx, w, ap],
                        &[types::I64, types::I32, types::I64],
                        span,
                        Some(types::I64),
                    )
                    .expect("rt_libc returns a value");
                match e.ty {
                    Some(Scalar::F64) => self.b.ins().bitcast(types::F64, MemFlagsData::new(), r),
                    Some(t) => self.convert(r, Scalar::I64, t),
                    None => {
                        return Err(CodegenError::NoValue {
                            what: "C library call",
                        });
                    }
                }
            }
        };
        Ok(Some(v))
    }

    fn call(&mut self, callee: &str, args: &[Arg]) -> R<Option<Value>> {
        let (id, sig) = self
            .env
            .callees
            .get(callee)
            .cloned()
            .ok_or_else(|| CodegenError::UnknownCallee(callee.to_string()))?;
        if sig.params.len() != args.len() {
            return Err(CodegenError::CallArity {
                callee: callee.to_string(),
                given: args.len(),
                takes: sig.params.len(),
            });
        }
        let mut vals = Vec::with_capacity(args.len() + 2);
        for (a, p) in args.iter().zip(&sig.params) {
            match (a, p) {
                (Arg::Value(e), ParamTy::Scalar(t)) => vals.push(self.scalar(e, *t)?),
                (Arg::Value(e), ParamTy::Ptr(_)) => vals.push(self.scalar(e, Scalar::U64)?),
                (Arg::Array(pl), ParamTy::ArrayRef(t)) => {
                    let (ptr, len, elem) = self.array(pl)?;
                    if elem != *t {
                        return Err(CodegenError::ArrayArgElement(callee.to_string()));
                    }
                    vals.push(ptr);
                    vals.push(len);
                }
                _ => return Err(CodegenError::ArgumentKind(callee.to_string())),
            }
        }
        // Each call site splits the entry's address differently between the
        // constant and the load offset. The constants then differ, so
        // Cranelift materializes each next to its call instead of keeping one
        // shared constant alive across calls in a callee-saved register.
        let site = self.call_sites;
        self.call_sites += 1;
        let off = 8 * (site % (1 << 20)) as i64;
        let entry = (self.env.table + 8 * id as u64) as i64;
        let base = self.iconst(entry - off);
        let target = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), base, off as i32);
        let sr = self.sigref(clif_sig(&sig));
        let call = self.b.ins().call_indirect(sr, target, &vals);
        Ok(self.b.inst_results(call).first().copied())
    }

    fn printf(&mut self, pieces: &[FmtPiece], args: &[PrintArg], span: u32) -> R<()> {
        let mut desc = Printf::default();
        let mut kinds = Vec::new();
        for p in pieces {
            match p {
                FmtPiece::Lit(s) => desc.pieces.push(PrintPiece::Lit(s.as_bytes().to_vec())),
                FmtPiece::Conv { spec, conv } => {
                    let piece = crate::runtime::prepare_conv(spec, *conv)
                        .map_err(CodegenError::Conversion)?;
                    if let PrintPiece::Conv { kind, stars, .. } = &piece {
                        // Each `*` takes an int slot before the value.
                        for _ in 0..*stars {
                            kinds.push(ConvKind::Int);
                        }
                        kinds.push(*kind);
                    }
                    desc.pieces.push(piece);
                }
            }
        }
        if kinds.len() != args.len() {
            return Err(CodegenError::PrintfArity {
                conversions: kinds.len(),
                args: args.len(),
            });
        }
        // A `%s` of a char array is its own kind, with a second slot.
        let mut conv_of_arg = Vec::new();
        for (pi, p) in desc.pieces.iter().enumerate() {
            if let PrintPiece::Conv { stars, .. } = p {
                for _ in 0..*stars {
                    conv_of_arg.push(None);
                }
                conv_of_arg.push(Some(pi));
            }
        }
        for (a, (k, c)) in args.iter().zip(kinds.iter_mut().zip(&conv_of_arg)) {
            let to = match (a, &*k) {
                (PrintArg::CharArray(_), ConvKind::Str) => ConvKind::CharArray,
                (PrintArg::CStr(_), ConvKind::Str) => ConvKind::CStr,
                _ => continue,
            };
            *k = to;
            if let Some(pi) = c
                && let PrintPiece::Conv { kind, .. } = &mut desc.pieces[*pi]
            {
                *kind = to;
            }
        }
        let extra = kinds.iter().filter(|k| **k == ConvKind::CharArray).count();
        let n = (args.len() + extra).max(1) as u32;
        let ss = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * n,
            3,
        ));
        let mut i: i32 = 0;
        for (a, k) in args.iter().zip(&kinds) {
            let v = match (a, k) {
                (PrintArg::CharArray(p), ConvKind::CharArray) => {
                    let (ptr, len, elem) = self.array(p)?;
                    if elem.size() != 1 {
                        return Err(CodegenError::PrintfArgument);
                    }
                    self.b.ins().stack_store(types::I64, ptr, ss, 8 * i);
                    i += 1;
                    len
                }
                (PrintArg::Value(e), ConvKind::Int | ConvKind::ShortInt | ConvKind::Char) => {
                    self.scalar(e, Scalar::I64)?
                }
                (PrintArg::Value(e), ConvKind::Double) => self.scalar(e, Scalar::F64)?,
                (PrintArg::Value(e), ConvKind::Ptr) => self.scalar(e, Scalar::U64)?,
                (PrintArg::CStr(e), ConvKind::CStr) => self.scalar(e, Scalar::U64)?,
                (PrintArg::Str(s), ConvKind::Str) => {
                    let c = CString::new(s.as_bytes()).map_err(|_| CodegenError::NulInString)?;
                    let p = c.as_ptr() as i64;
                    self.env.strings.push(c);
                    self.iconst(p)
                }
                _ => return Err(CodegenError::PrintfArgument),
            };
            self.b.ins().stack_store(types::I64, v, ss, 8 * i);
            i += 1;
        }
        let boxed = Box::new(desc);
        let dp = &*boxed as *const Printf as i64;
        self.env.printfs.push(boxed);
        let ctx = self.iconst(self.env.ctx as i64);
        let d = self.iconst(dp);
        let a = self.b.ins().stack_addr(types::I64, ss, 0);
        if kinds.contains(&ConvKind::CStr) {
            // A `%s` of a pointer reads the program's memory, with checks
            // that stop the program at this printf.
            self.call_rt_at(
                runtime::rt_printf_at as *const () as u64,
                &[ctx, d, a],
                &[types::I64; 3],
                span,
                None,
            );
        } else {
            self.call_rt(
                runtime::rt_printf as *const () as u64,
                &[ctx, d, a],
                &[types::I64; 3],
                None,
            );
        }
        Ok(())
    }

    fn builtin(&mut self, which: Builtin, args: &[Expr], span: u32) -> R<Option<Value>> {
        let ctx = self.iconst(self.env.ctx as i64);
        match which {
            Builtin::Malloc | Builtin::Calloc | Builtin::Realloc | Builtin::Free => {
                let takes = match which {
                    Builtin::Malloc => 2,
                    Builtin::Free => 1,
                    _ => 3,
                };
                if args.len() != takes {
                    return Err(CodegenError::BuiltinArity {
                        builtin: which,
                        takes,
                    });
                }
                let mut vals = vec![ctx];
                let mut tys = vec![types::I64];
                for (i, a) in args.iter().enumerate() {
                    let tag = i + 1 == takes && which != Builtin::Free;
                    if tag {
                        vals.push(self.scalar(a, Scalar::U32)?);
                        tys.push(types::I32);
                    } else {
                        vals.push(self.scalar(a, Scalar::U64)?);
                        tys.push(types::I64);
                    }
                }
                let (f, ret) = match which {
                    Builtin::Malloc => (runtime::rt_malloc as *const () as u64, true),
                    Builtin::Calloc => (runtime::rt_calloc as *const () as u64, true),
                    Builtin::Realloc => (runtime::rt_realloc as *const () as u64, true),
                    _ => (runtime::rt_free as *const () as u64, false),
                };
                let ret = ret.then_some(types::I64);
                Ok(if matches!(which, Builtin::Realloc | Builtin::Free) {
                    self.call_rt_at(f, &vals, &tys, span, ret)
                } else {
                    self.call_rt(f, &vals, &tys, ret)
                })
            }
            Builtin::SleepMs => {
                let [ms] = args else {
                    return Err(CodegenError::BuiltinArity {
                        builtin: Builtin::SleepMs,
                        takes: 1,
                    });
                };
                let ms = self.scalar(ms, Scalar::I64)?;
                let fp = self.b.ins().get_frame_pointer(types::I64);
                let pc = self.iconst(self.env.self_pc as i64);
                self.call_rt(
                    runtime::sleep_addr(),
                    &[ctx, ms, fp, pc],
                    &[types::I64; 4],
                    None,
                );
                Ok(None)
            }
            Builtin::NowMs => {
                if !args.is_empty() {
                    return Err(CodegenError::BuiltinArity {
                        builtin: Builtin::NowMs,
                        takes: 0,
                    });
                }
                Ok(self.call_rt(
                    runtime::rt_now_ms as *const () as u64,
                    &[],
                    &[],
                    Some(types::I64),
                ))
            }
            Builtin::Sqrt | Builtin::Floor | Builtin::Ceil | Builtin::Fabs => {
                let [x] = args else {
                    return Err(CodegenError::BuiltinArity {
                        builtin: which,
                        takes: 1,
                    });
                };
                let x = self.scalar(x, Scalar::F64)?;
                Ok(Some(match which {
                    Builtin::Sqrt => self.b.ins().sqrt(x),
                    Builtin::Floor => self.b.ins().floor(x),
                    Builtin::Ceil => self.b.ins().ceil(x),
                    _ => self.b.ins().fabs(x),
                }))
            }
            Builtin::Sin
            | Builtin::Cos
            | Builtin::Tan
            | Builtin::Atan
            | Builtin::Exp
            | Builtin::Log
            | Builtin::Log10
            | Builtin::Atan2
            | Builtin::Pow
            | Builtin::Fmod => {
                let f = runtime::math_addr(which).ok_or(CodegenError::NoMathFunction(which))?;
                let two = matches!(which, Builtin::Atan2 | Builtin::Pow | Builtin::Fmod);
                if args.len() != 1 + two as usize {
                    return Err(CodegenError::BuiltinArity {
                        builtin: which,
                        takes: 1 + two as usize,
                    });
                }
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.scalar(a, Scalar::F64)?);
                }
                let tys = vec![types::F64; vals.len()];
                Ok(self.call_rt(f, &vals, &tys, Some(types::F64)))
            }
            Builtin::Abs => {
                let [x] = args else {
                    return Err(CodegenError::BuiltinArity {
                        builtin: Builtin::Abs,
                        takes: 1,
                    });
                };
                // abs(int) or labs(long), by the argument's type.
                let t = match x.ty {
                    Some(t @ (Scalar::I32 | Scalar::I64)) => t,
                    found => {
                        return Err(CodegenError::Expected {
                            expected: Scalar::I32,
                            found,
                        });
                    }
                };
                let x = self.scalar(x, t)?;
                Ok(Some(self.b.ins().iabs(x)))
            }
            Builtin::Rand => {
                if !args.is_empty() {
                    return Err(CodegenError::BuiltinArity {
                        builtin: Builtin::Rand,
                        takes: 0,
                    });
                }
                let r = self.call_rt(
                    runtime::rt_rand as *const () as u64,
                    &[],
                    &[],
                    Some(types::I64),
                );
                Ok(r.map(|r| self.b.ins().ireduce(types::I32, r)))
            }
            Builtin::Srand => {
                let [x] = args else {
                    return Err(CodegenError::BuiltinArity {
                        builtin: Builtin::Srand,
                        takes: 1,
                    });
                };
                let x = self.scalar(x, Scalar::U32)?;
                let x = self.b.ins().uextend(types::I64, x);
                self.call_rt(
                    runtime::rt_srand as *const () as u64,
                    &[x],
                    &[types::I64],
                    None,
                );
                Ok(None)
            }
            Builtin::Exit => {
                let [code] = args else {
                    return Err(CodegenError::BuiltinArity {
                        builtin: Builtin::Exit,
                        takes: 1,
                    });
                };
                let code = self.int(code)?;
                let code = self.b.ins().sextend(types::I64, code);
                self.call_rt(
                    runtime::rt_exit as *const () as u64,
                    &[ctx, code],
                    &[types::I64; 2],
                    None,
                );
                self.b.ins().trap(TrapCode::unwrap_user(2));
                self.dead_block();
                Ok(None)
            }
        }
    }
}
