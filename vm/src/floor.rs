//! The engine's own floor for the calls benchmark (SPEC §7): recursive fib
//! compiled by Cranelift with the settings UC code gets ([`Codegen::new`]),
//! but with direct calls to itself, no binding table and no safepoints.
//! UC fib is held to within 1.05× of it.

use crate::codegen::Codegen;
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self as clif, AbiParam, ExtFuncData, ExternalName, InstBuilder, UserExternalName, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use memmap2::{Mmap, MmapMut};

/// `long fib(long n)` compiled by Cranelift with direct self-calls.
pub struct FloorFib {
    code: Mmap,
}

impl FloorFib {
    /// Compile it and map it executable.
    pub fn new() -> Result<FloorFib, String> {
        let cg = Codegen::new().map_err(|e| e.to_string())?;
        let isa = cg.isa();
        let isa = &*isa;
        let mut sig = clif::Signature::new(isa.default_call_conv());
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I64));
        let mut func =
            clif::Function::with_name_signature(clif::UserFuncName::user(0, 0), sig.clone());
        let mut fctx = FunctionBuilderContext::new();
        {
            let mut b = FunctionBuilder::new(&mut func, &mut fctx);
            let name = b
                .func
                .declare_imported_user_function(UserExternalName::new(0, 0));
            let sigref = b.import_signature(sig);
            let me = b.import_function(ExtFuncData {
                name: ExternalName::user(name),
                signature: sigref,
                colocated: true,
                patchable: false,
            });
            let entry = b.create_block();
            let small = b.create_block();
            let big = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let n = b.block_params(entry)[0];
            let c = b.ins().icmp_imm_s(IntCC::SignedLessThan, n, 2);
            b.ins().brif(c, small, &[], big, &[]);
            b.switch_to_block(small);
            b.ins().return_(&[n]);
            b.switch_to_block(big);
            let n1 = b.ins().iadd_imm_s(n, -1);
            let call1 = b.ins().call(me, &[n1]);
            let a = b.inst_results(call1)[0];
            let n2 = b.ins().iadd_imm_s(n, -2);
            let call2 = b.ins().call(me, &[n2]);
            let r2 = b.inst_results(call2)[0];
            let s = b.ins().iadd(a, r2);
            b.ins().return_(&[s]);
            b.seal_all_blocks();
            b.finalize(isa.frontend_config());
        }
        let mut ctx = cranelift_codegen::Context::for_function(func);
        let compiled = ctx
            .compile(isa, &mut ControlPlane::default())
            .map_err(|e| format!("{:?}", e.inner))?;
        let mut bytes = compiled.code_buffer().to_vec();
        // Every relocation is a call to itself: patch it to the start.
        for r in compiled.buffer.relocs() {
            match r.kind {
                Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 | Reloc::X86PCRel4 => {
                    let at = r.offset as i64;
                    let rel = (0 - at + r.addend) as i32;
                    bytes[at as usize..at as usize + 4].copy_from_slice(&rel.to_le_bytes());
                }
                k => return Err(format!("unexpected relocation {k:?}")),
            }
        }
        let mut map = MmapMut::map_anon(bytes.len().max(1)).map_err(|e| e.to_string())?;
        map[..bytes.len()].copy_from_slice(&bytes);
        let code = map.make_exec().map_err(|e| e.to_string())?;
        Ok(FloorFib { code })
    }

    /// fib(n).
    pub fn call(&self, n: i64) -> i64 {
        // SAFETY: the mapping holds a complete function of this signature,
        // compiled for the host's default calling convention; it touches
        // only its stack.
        let f: extern "C" fn(i64) -> i64 = unsafe { std::mem::transmute(self.code.as_ptr()) };
        f(n)
    }
}
