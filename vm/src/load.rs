//! Loading a version: names, data, binding table, then the code of
//! procedures, interprocedures and mprocedures, compiled (on all cores for
//! a large version) and placed through one `JITModule` per version.
//!
//! Invariants:
//! - a load either places everything or nothing (the slot is released on
//!   any error, naming what did not fit; the names it interned are in a
//!   copy of the name service that the VM drops);
//! - each unit lands at exactly its address (see [`crate::version`]), and
//!   its code has no relocations.

use crate::codegen::{Codegen, Env, Tier, Unit};
use crate::ids::{Slot, VersionNo};
use crate::layout::{SEGMENT_SIZE, SegType};
use crate::names::NameService;
use crate::runtime::Printf;
use crate::space::{AddressSpace, NextCode, PlacingMemory, Prot, page_round};
use crate::version::{AuxCode, GlobalInfo, ProcInfo, Version, VersionCode};
use compiler::callgraph::DeltaStar;
use compiler::check::sig_string;
use compiler::ir::{Const, Module, Scalar, Signature, Static, VarTy};
use cranelift_codegen::isa::CallConv;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::Module as _;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::CString;
use std::sync::Arc;

// One home per fact: the compiler refuses statics and globals past the
// data segment, and documents the code segment, by these numbers.
const _: () = assert!(SEGMENT_SIZE == compiler::limits::DATA_SEGMENT_BYTES);
const _: () = assert!(SEGMENT_SIZE == compiler::limits::CODE_SEGMENT_BYTES);

/// Why a load failed. Nothing of the version stays loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Version numbers must grow.
    #[error("version {0} is already loaded or older than a loaded version")]
    BadNumber(VersionNo),
    /// No free version-space slot.
    #[error("no free version space (all {0} slots hold live versions)")]
    NoSlot(u32),
    /// A procedure's code does not fit its segment.
    #[error(
        "procedure {name}{at} needs {size} bytes of code, more than its {max}-byte segment (split it into smaller procedures)"
    )]
    TooLarge {
        /// The procedure.
        name: String,
        /// Where it is defined (` at FILE:LINE:COL`), when the source is known.
        at: String,
        /// Its size.
        size: u64,
        /// The segment size.
        max: u64,
    },
    /// Statics do not fit.
    #[error("the statics of {0} do not fit a {SEGMENT_SIZE}-byte data segment")]
    DataTooLarge(String),
    /// The module has no `main`.
    #[error("the program has no main procedure")]
    NoMain,
    /// Two procedures of one name.
    #[error("procedure {0} is defined twice")]
    ProcDefinedTwice(String),
    /// A global named like a procedure or another global.
    #[error("{0} is defined twice")]
    GlobalDefinedTwice(String),
    /// Every procedure ID is taken.
    #[error(transparent)]
    NamesFull(#[from] crate::names::NamesFull),
    /// More initializers than a static or global has elements.
    #[error("{kind} {name}: too many initializers")]
    TooManyInitializers {
        /// "static" or "global".
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A static whose offset puts it past its procedure's data segment.
    #[error("static {name} of {proc} lies outside its data segment")]
    StaticOutside {
        /// The static.
        name: String,
        /// Its procedure.
        proc: String,
    },
    /// A unit's IR does not compile (the pup refuses what does not fit).
    #[error("{kind} {name}: {err}")]
    Compile {
        /// Procedure, interprocedure or mprocedure.
        kind: UnitKind,
        /// The procedure (or, for an mproc, global) it is or serves.
        name: String,
        /// Why.
        #[source]
        err: crate::codegen::CodegenError,
    },
    /// A code generator could not be set up.
    #[error("code generator: {0}")]
    Codegen(#[source] crate::codegen::CodegenError),
    /// A compiler thread panicked.
    #[error("a compiler thread failed")]
    CompilerThread,
    /// An iproc for a procedure the version does not have.
    #[error("iproc {name} serves no procedure of version {version}")]
    IProcServesNothing {
        /// The procedure it names.
        name: String,
        /// The version being loaded.
        version: VersionNo,
    },
    /// An iproc whose old signature is not the old procedure's.
    #[error(
        "iproc {name} declares the old signature {declared}, but {name} is {actual} in version {version} (the version it will be updated from)"
    )]
    IProcOldSignature {
        /// The procedure.
        name: String,
        /// The old signature the iproc declares.
        declared: String,
        /// The signature the procedure has in `version`.
        actual: String,
        /// The version it will be updated from.
        version: VersionNo,
    },
    /// An iproc for a procedure the previous version lacks.
    #[error("iproc {0}: the previous version has no procedure {0}")]
    IProcNoOld(String),
    /// An mproc for a name the version does not have.
    #[error("mproc {name} serves nothing of version {version}")]
    MProcServesNothing {
        /// The name it serves.
        name: String,
        /// The version being loaded.
        version: VersionNo,
    },
    /// An mproc's `old.NAME` of another type than in the old version.
    #[error("mproc {name}: old.{old} is {actual} in version {version}, not {declared}")]
    MProcOldType {
        /// What the mproc serves.
        name: String,
        /// The old static or global.
        old: String,
        /// Its type in `version`.
        actual: String,
        /// The version it will be updated from.
        version: VersionNo,
        /// The type the mproc declares.
        declared: String,
    },
    /// An mproc's `old.NAME` the old version lacks.
    #[error(
        "mproc {name}: version {version} (the version {name} will be updated from) has no old.{old}"
    )]
    MProcNoOld {
        /// What the mproc serves.
        name: String,
        /// The old static or global.
        old: String,
        /// The version it will be updated from.
        version: VersionNo,
    },
    /// An mproc for a procedure whose statics an older version owns.
    #[error("mproc {0}: its procedure shares data with an older version")]
    MProcSharedData(String),
    /// The OS refused memory.
    #[error("{0}")]
    Space(#[from] crate::space::SpaceError),
    /// Cranelift-jit could not place a unit.
    #[error("cannot place {name}: {err}")]
    Jit {
        /// What was being placed.
        name: String,
        /// Cranelift-jit's error.
        #[source]
        err: Box<cranelift_module::ModuleError>,
    },
}

/// What kind of unit failed to compile ([`LoadError::Compile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// A procedure.
    Procedure,
    /// An interprocedure.
    IProc,
    /// An mprocedure.
    MProc,
}

impl std::fmt::Display for UnitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UnitKind::Procedure => "procedure",
            UnitKind::IProc => "iproc",
            UnitKind::MProc => "mproc",
        })
    }
}

/// Where the loaded code's runtime lives.
pub(crate) struct Ctxs {
    pub program: u64,
    pub mproc: u64,
    pub safepoints: bool,
    /// The program memory's layout, for the inline pointer check.
    pub mem: crate::memory::MemLayout,
}

/// The bytes of a static or global with these initializers, or `None` if
/// there are more initializers than elements.
fn const_bytes(init: &[Const], ty: VarTy) -> Option<Vec<u8>> {
    let n = match ty {
        VarTy::Scalar(_) | VarTy::Ptr(_) => 1,
        VarTy::Array(_, n) => n as usize,
    };
    if init.len() > n {
        return None;
    }
    let elem = ty.elem();
    let size = elem.size() as usize;
    let mut out = vec![0u8; n * size];
    for (i, c) in init.iter().enumerate() {
        // Little-endian: an integer's low `size` bytes are its value at
        // the element's width (the checker normalized it to the type).
        let b = match (c, elem) {
            (Const::Double(d), Scalar::F32) => (*d as f32).to_bits().to_le_bytes().to_vec(),
            (Const::Double(d), _) => d.to_bits().to_le_bytes().to_vec(),
            (Const::Int(v), Scalar::F32) => (*v as f32).to_bits().to_le_bytes().to_vec(),
            (Const::Int(v), Scalar::F64) => (*v as f64).to_bits().to_le_bytes().to_vec(),
            (Const::Int(v), _) => v.to_le_bytes().to_vec(),
        };
        out[i * size..(i + 1) * size].copy_from_slice(&b[..size]);
    }
    Some(out)
}

/// A version's code on its way in: one `JITModule` per version, whose
/// memory provider ([`PlacingMemory`]) puts each function at exactly the
/// segment start it is told. Code is compiled before (in parallel, by
/// [`Codegen`]), so each unit is declared and defined from its bytes here;
/// [`Placer::seal`] is the module's `finalize_definitions`, where every page
/// flips from RW to RX.
struct Placer {
    jit: JITModule,
    next: NextCode,
}

impl Placer {
    /// `procs` is the version's span of procedure segments (see
    /// [`PlacingMemory`] for why it is one block).
    fn new(space: &AddressSpace, cg: &Codegen, procs: (u64, u64)) -> Placer {
        let next = NextCode::default();
        let mut builder = JITBuilder::with_isa(cg.isa(), cranelift_module::default_libcall_names());
        builder.memory_provider(Box::new(PlacingMemory::new(space, next.clone(), procs)));
        Placer {
            jit: JITModule::new(builder),
            next,
        }
    }

    fn put_code(&mut self, addr: u64, bytes: &[u8], name: &str) -> Result<(), LoadError> {
        if bytes.len() as u64 > SEGMENT_SIZE {
            return Err(LoadError::TooLarge {
                name: name.into(),
                at: String::new(),
                size: bytes.len() as u64,
                max: SEGMENT_SIZE,
            });
        }
        let jit_err = |e| LoadError::Jit {
            name: name.into(),
            err: Box::new(e),
        };
        // The signature is not used by a definition from bytes: the code
        // was compiled with its own, and nothing links against the name.
        let sig = cranelift_codegen::ir::Signature::new(CallConv::SystemV);
        let id = self.jit.declare_anonymous_function(&sig).map_err(jit_err)?;
        self.next.set(addr);
        // No relocations: generated code reaches everything through the
        // binding table and constants (`Codegen::compile` refuses any).
        self.jit
            .define_function_bytes(id, 1, bytes, &[])
            .map_err(jit_err)?;
        Ok(())
    }

    fn seal(mut self) -> Result<VersionCode, LoadError> {
        self.jit
            .finalize_definitions()
            .map_err(|e| LoadError::Jit {
                name: "the version".into(),
                err: Box::new(e),
            })?;
        Ok(VersionCode::new(self.jit))
    }
}

/// What a procedure's old code and data are checked against: per name,
/// the version it will be running when the new version applies.
pub(crate) type OldOf<'a> = dyn Fn(&str) -> Option<&'a Version> + 'a;

/// What a load is given, besides the name service it interns into and the
/// code generator it compiles with.
pub(crate) struct LoadInput<'a> {
    /// The VM's address space.
    pub space: &'a AddressSpace,
    /// The newest version loaded before this one: its data is shared where
    /// unchanged.
    pub prev: Option<&'a Version>,
    /// Per procedure, the version its iproc's old signature and its mproc's
    /// `old.NAME` are checked against (`prev` where it gives none).
    pub old_of: &'a OldOf<'a>,
    /// The new version's number.
    pub number: VersionNo,
    /// The version-space slot reserved for it.
    pub slot: Slot,
    /// What it is compiled from.
    pub module: Arc<Module>,
    /// Its source text, when known.
    pub source: Option<Arc<str>>,
    /// The contexts its code runs with.
    pub ctxs: &'a Ctxs,
}

/// `m` without its procedures' bodies (the code is placed; the summary
/// keeps what comparisons need).
fn without_bodies(m: &Module) -> Arc<Module> {
    Arc::new(Module {
        file: m.file.clone(),
        procs: m
            .procs
            .iter()
            .map(|p| compiler::ir::Proc {
                name: p.name.clone(),
                sig: p.sig.clone(),
                locals: p.locals.clone(),
                statics: p.statics.clone(),
                data_size: p.data_size,
                body: Vec::new(),
                callees: p.callees.clone(),
                globals_used: p.globals_used.clone(),
                labels: p.labels.clone(),
                span: p.span,
            })
            .collect(),
        globals: m.globals.clone(),
        iprocs: m.iprocs.clone(),
        mprocs: m.mprocs.clone(),
    })
}

/// Load `inp.module` as version `inp.number` into `inp.slot`: names, data,
/// binding table, then the code of procedures, iprocs and mprocs, each step
/// a function below. On any error whatever was committed of the slot goes
/// back.
pub(crate) fn load(
    inp: LoadInput<'_>,
    names: &mut NameService,
    cg: &mut Codegen,
) -> Result<Version, LoadError> {
    let (space, slot) = (inp.space, inp.slot);
    let r = load_inner(inp, names, cg);
    if r.is_err() {
        // Whatever was committed of this slot goes back.
        let _ = space.release_slot(slot);
    }
    r
}

fn load_inner(
    inp: LoadInput<'_>,
    names: &mut NameService,
    cg: &mut Codegen,
) -> Result<Version, LoadError> {
    if !inp.module.procs.iter().any(|p| p.name == "main") {
        return Err(LoadError::NoMain);
    }
    let summary = compiler::diff::Summary::of_digested(&inp.module);
    let diff = inp
        .prev
        .map(|p| compiler::diff::diff_summaries(&p.summary, &summary));
    let ids = assign_ids(&inp.module, names)?;
    let max_id = ids.values().copied().max().unwrap_or(0);
    let mut ld = Loading {
        inp,
        ids,
        max_id,
        init_data: HashMap::new(),
        printfs: Vec::new(),
        strings: Vec::new(),
    };
    ld.commit_data()?;
    let globals = ld.globals(diff.as_ref())?;
    let mut procs = ld.statics(diff.as_ref())?;
    let (table, table_bytes) = ld.commit_table()?;
    let linked = Linked {
        table,
        callees: procs
            .iter()
            .map(|(n, p)| (n.clone(), (p.id, p.sig.clone())))
            .collect(),
        globals: globals
            .iter()
            .map(|(n, g)| (n.clone(), (g.addr, g.ty)))
            .collect(),
    };
    let space = ld.inp.space;
    let code_block = (
        space.segment(ld.inp.slot, SegType::Proc, 0),
        SEGMENT_SIZE * (ld.max_id as u64 + 1),
    );
    let mut placer = Placer::new(space, cg, code_block);
    let code_bytes = ld.procs(cg, &mut placer, &mut procs, &linked, table_bytes)?;
    let iprocs = ld.iprocs(cg, &mut placer, &procs, &linked)?;
    let mprocs = ld.mprocs(cg, &mut placer, &procs, &linked)?;
    let code = placer.seal()?;

    let Loading {
        inp,
        init_data,
        printfs,
        strings,
        ..
    } = ld;
    let delta = DeltaStar::of_module(&inp.module);
    let index = inp
        .module
        .procs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.clone(), i))
        .collect();
    Ok(Version {
        number: inp.number,
        slot: inp.slot,
        module: without_bodies(&inp.module),
        summary,
        source: inp.source,
        procs,
        globals,
        iprocs,
        mprocs,
        table,
        table_bytes,
        delta,
        index,
        init_data,
        printfs,
        strings,
        code,
        code_bytes,
    })
}

/// Names first: IDs are the segment numbers. A name defined twice is
/// refused before anything is placed.
fn assign_ids(module: &Module, names: &mut NameService) -> Result<HashMap<String, u32>, LoadError> {
    let mut ids = HashMap::new();
    for p in &module.procs {
        if ids.contains_key(&p.name) {
            return Err(LoadError::ProcDefinedTwice(p.name.clone()));
        }
        ids.insert(p.name.clone(), names.intern(&p.name)?);
    }
    for g in &module.globals {
        if ids.contains_key(&g.name) {
            return Err(LoadError::GlobalDefinedTwice(g.name.clone()));
        }
        ids.insert(g.name.clone(), names.intern(&g.name)?);
    }
    Ok(ids)
}

/// A load in progress: its inputs, the IDs of its names, and what its
/// data and code own so far.
struct Loading<'a> {
    inp: LoadInput<'a>,
    ids: HashMap<String, u32>,
    /// The largest ID: the data, code and table blocks span IDs `0..=max_id`.
    max_id: u32,
    /// Initial contents of the data segments this version owns.
    init_data: HashMap<u64, Vec<u8>>,
    /// Printf descriptors and `%s` literals the code points at (boxed so
    /// that their addresses stay put while the vector grows).
    #[allow(clippy::vec_box)]
    printfs: Vec<Box<Printf>>,
    strings: Vec<CString>,
}

/// What compiled code links against: the version's binding table, its
/// procedures (ID and signature) and its globals (address and type).
struct Linked {
    table: u64,
    callees: HashMap<String, (u32, Signature)>,
    globals: HashMap<String, (u64, VarTy)>,
}

impl Loading<'_> {
    /// The data segments of this version are one block, made writable with
    /// one call: a protection change per segment leaves two mappings per
    /// procedure with statics, and Linux allows 65,530 per process
    /// (`vm.max_map_count`), which a 20,000-procedure program exceeded. (The
    /// code segments are one block too: see `PlacingMemory`.)
    fn commit_data(&self) -> Result<(), LoadError> {
        let space = self.inp.space;
        let span = SEGMENT_SIZE * (self.max_id as u64 + 1);
        space.protect(
            space.segment(self.inp.slot, SegType::Data, 0),
            span,
            Prot::ReadWrite,
        )?;
        Ok(())
    }

    /// Writes a data segment this version owns; gives its address.
    fn alloc_data(&mut self, id: u32, bytes: Vec<u8>) -> u64 {
        let space = self.inp.space;
        let addr = space.segment(self.inp.slot, SegType::Data, id);
        if !bytes.is_empty() {
            // Fresh pages read as zero (a slot's pages are dropped when it
            // is released), so all-zero data is not written: its page stays
            // untouched and costs no memory until the program writes it. At
            // 50,000 procedures with zeroed statics that is 200 MB of the
            // pup, one page per procedure (SPEC §3 puts each at
            // `(v, 3, P, 0)`). It is still recorded, to restore after a
            // failed mproc.
            if bytes.iter().any(|&b| b != 0) {
                // SAFETY: freshly committed RW pages of this new version.
                unsafe { space.write(addr, &bytes) };
            }
            self.init_data.insert(addr, bytes);
        }
        addr
    }

    /// Globals: shared with the previous version when unchanged.
    fn globals(
        &mut self,
        diff: Option<&compiler::diff::Diff>,
    ) -> Result<HashMap<String, GlobalInfo>, LoadError> {
        let module = self.inp.module.clone();
        let mproc_names: Vec<&str> = module.mprocs.iter().map(|m| m.name.as_str()).collect();
        let mut globals = HashMap::new();
        for g in &module.globals {
            let id = self.ids[&g.name];
            let shared = self
                .inp
                .prev
                .and_then(|p| p.globals.get(&g.name))
                .filter(|_| {
                    diff.is_some_and(|d| {
                        !d.changed_globals.contains(&g.name) && !d.added_globals.contains(&g.name)
                    }) && !mproc_names.contains(&g.name.as_str())
                });
            let info = match shared {
                Some(pg) if pg.ty == g.ty => GlobalInfo {
                    id,
                    ty: g.ty,
                    addr: pg.addr,
                    owner: pg.owner,
                },
                _ => {
                    let bytes = const_bytes(&g.init, g.ty).ok_or_else(|| {
                        LoadError::TooManyInitializers {
                            kind: "global",
                            name: g.name.clone(),
                        }
                    })?;
                    if bytes.len() as u64 > SEGMENT_SIZE {
                        return Err(LoadError::DataTooLarge(g.name.clone()));
                    }
                    GlobalInfo {
                        id,
                        ty: g.ty,
                        addr: self.alloc_data(id, bytes),
                        owner: self.inp.number,
                    }
                }
            };
            globals.insert(g.name.clone(), info);
        }
        Ok(globals)
    }

    /// Procedures' statics (shared with the previous version when the
    /// procedure is unchanged), and each procedure's entry without code yet.
    fn statics(
        &mut self,
        diff: Option<&compiler::diff::Diff>,
    ) -> Result<BTreeMap<String, ProcInfo>, LoadError> {
        let module = self.inp.module.clone();
        let number = self.inp.number;
        // A set, not a search of the list per procedure: at 50,000
        // unchanged procedures that search was most of a second load.
        let unchanged: HashSet<&str> = diff
            .map(|d| d.unchanged.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let unchanged_proc = |name: &str| unchanged.contains(name);
        let mut procs = BTreeMap::new();
        for p in &module.procs {
            let id = self.ids[&p.name];
            let shared = self
                .inp
                .prev
                .and_then(|pv| pv.procs.get(&p.name))
                .filter(|_| unchanged_proc(&p.name));
            let (data, owner) = match shared {
                Some(pp) => (pp.data, pp.data_owner),
                None if p.statics.is_empty() => (0, number),
                None => {
                    if p.data_size as u64 > SEGMENT_SIZE {
                        return Err(LoadError::DataTooLarge(p.name.clone()));
                    }
                    let mut bytes = vec![0u8; p.data_size as usize];
                    for s in &p.statics {
                        let b = const_bytes(&s.init, s.ty).ok_or_else(|| {
                            LoadError::TooManyInitializers {
                                kind: "static",
                                name: s.name.clone(),
                            }
                        })?;
                        let off = s.offset as usize;
                        if off + b.len() > bytes.len() {
                            return Err(LoadError::StaticOutside {
                                name: s.name.clone(),
                                proc: p.name.clone(),
                            });
                        }
                        bytes[off..off + b.len()].copy_from_slice(&b);
                    }
                    (self.alloc_data(id, bytes), number)
                }
            };
            procs.insert(
                p.name.clone(),
                ProcInfo {
                    id,
                    sig: p.sig.clone(),
                    code: self.inp.space.segment(self.inp.slot, SegType::Proc, id),
                    size: 0,
                    data,
                    data_owner: owner,
                    statics: p.statics.clone(),
                    callees: p.callees.clone(),
                    globals_used: p.globals_used.clone(),
                },
            );
        }
        Ok(procs)
    }

    /// Commits the binding table, sized for every ID: (address, bytes).
    fn commit_table(&self) -> Result<(u64, u64), LoadError> {
        let space = self.inp.space;
        let table = space.segment(self.inp.slot, SegType::Table, 0);
        let table_bytes = page_round(8 * (self.max_id as u64 + 1));
        space.protect(table, table_bytes, Prot::ReadWrite)?;
        Ok((table, table_bytes))
    }

    /// Compiles every procedure (on all cores for a large version:
    /// Cranelift is the bulk of a load's time, and procedures compile
    /// independently), places each at its segment and binds it in the
    /// table. Gives the total code size.
    fn procs(
        &mut self,
        cg: &mut Codegen,
        placer: &mut Placer,
        procs: &mut BTreeMap<String, ProcInfo>,
        linked: &Linked,
        table_bytes: u64,
    ) -> Result<u64, LoadError> {
        let module = &*self.inp.module;
        let (code, thread_printfs) = compile_procs(cg, module, procs, linked, self.inp.ctxs)?;
        let mut code_bytes = 0;
        for (p, bytes) in module.procs.iter().zip(code) {
            let info = procs.get_mut(&p.name).unwrap();
            placer
                .put_code(info.code, &bytes, &p.name)
                .map_err(|e| match e {
                    LoadError::TooLarge {
                        name, size, max, ..
                    } => LoadError::TooLarge {
                        name,
                        at: self.inp.source.as_deref().map_or(String::new(), |src| {
                            let l =
                                compiler::source::locate(src, &module.file, p.span.start as usize);
                            format!(" at {}:{}:{}", l.file, l.line, l.column)
                        }),
                        size,
                        max,
                    },
                    e => e,
                })?;
            code_bytes += bytes.len() as u64;
            info.size = bytes.len() as u32;
            // SAFETY: the table was committed RW and is not yet in use.
            let stored = unsafe {
                crate::binding::BindingTable::from_raw(linked.table, table_bytes)
                    .set(crate::binding::ProcId(self.ids[&p.name]), info.code)
            };
            debug_assert!(stored, "the table is sized for every ID");
        }
        for (pf, st) in thread_printfs {
            self.printfs.extend(pf);
            self.strings.extend(st);
        }
        Ok(code_bytes)
    }

    /// Compiles and places the interprocedures, each checked against the
    /// old signature of the procedure it serves.
    fn iprocs(
        &mut self,
        cg: &mut Codegen,
        placer: &mut Placer,
        procs: &BTreeMap<String, ProcInfo>,
        linked: &Linked,
    ) -> Result<BTreeMap<String, AuxCode>, LoadError> {
        let module = self.inp.module.clone();
        let (prev, number) = (self.inp.prev, self.inp.number);
        let mut iprocs = BTreeMap::new();
        for ip in &module.iprocs {
            let Some(info) = procs.get(&ip.name) else {
                return Err(LoadError::IProcServesNothing {
                    name: ip.name.clone(),
                    version: number,
                });
            };
            // The iproc returns P's old return type (SPEC §2.1), whatever its
            // declaration defaulted to; its parameters must match exactly.
            let mut old_sig = ip.old_sig.clone();
            let old_ver = (self.inp.old_of)(&ip.name).or(prev);
            match old_ver.and_then(|pv| pv.procs.get(&ip.name)) {
                Some(old) if old.sig.params != ip.old_sig.params => {
                    return Err(LoadError::IProcOldSignature {
                        name: ip.name.clone(),
                        declared: sig_string(&ip.old_sig),
                        actual: sig_string(&old.sig),
                        version: old_ver.map_or(VersionNo(0), |v| v.number),
                    });
                }
                Some(old) => old_sig.ret = old.sig.ret,
                None if prev.is_some() => {
                    return Err(LoadError::IProcNoOld(ip.name.clone()));
                }
                None => {}
            }
            let addr = self
                .inp
                .space
                .segment(self.inp.slot, SegType::IProc, info.id);
            let mut env = Env {
                ctx: self.inp.ctxs.program,
                table: linked.table,
                self_pc: addr,
                statics_base: 0,
                statics: &[],
                globals: &linked.globals,
                callees: &linked.callees,
                old_statics: &[],
                printfs: &mut self.printfs,
                strings: &mut self.strings,
                safepoints: self.inp.ctxs.safepoints,
                mem: self.inp.ctxs.mem,
            };
            let unit = Unit::Proc {
                sig: &old_sig,
                locals: &ip.locals,
                body: &ip.body,
            };
            let bytes = cg
                .compile(&unit, &mut env)
                .map_err(|err| LoadError::Compile {
                    kind: UnitKind::IProc,
                    name: ip.name.clone(),
                    err,
                })?;
            placer.put_code(addr, &bytes, &format!("iproc {}", ip.name))?;
            iprocs.insert(
                ip.name.clone(),
                AuxCode {
                    addr,
                    size: bytes.len() as u32,
                    old_sig: Some(old_sig),
                    old_version: old_ver.map(|v| v.number),
                },
            );
        }
        Ok(iprocs)
    }

    /// Compiles and places the mprocedures, with each `old.NAME` resolved
    /// against the version being replaced: for a procedure, the one it will
    /// be running when this version applies.
    fn mprocs(
        &mut self,
        cg: &mut Codegen,
        placer: &mut Placer,
        procs: &BTreeMap<String, ProcInfo>,
        linked: &Linked,
    ) -> Result<BTreeMap<String, AuxCode>, LoadError> {
        let module = self.inp.module.clone();
        let (prev, number) = (self.inp.prev, self.inp.number);
        let no_callees = HashMap::new();
        let mut mprocs = BTreeMap::new();
        for mp in &module.mprocs {
            let id = *self
                .ids
                .get(&mp.name)
                .ok_or_else(|| LoadError::MProcServesNothing {
                    name: mp.name.clone(),
                    version: number,
                })?;
            let old_ver = (self.inp.old_of)(&mp.name).or(prev);
            let old = old_statics(mp, old_ver, prev)?;
            let (statics, base): (&[Static], u64) = match (
                procs.get(&mp.name),
                module.procs.iter().find(|p| p.name == mp.name),
            ) {
                (Some(info), Some(p)) => {
                    if info.data_owner != number && !p.statics.is_empty() {
                        return Err(LoadError::MProcSharedData(mp.name.clone()));
                    }
                    (&p.statics, info.data)
                }
                _ => (&[], 0),
            };
            let addr = self.inp.space.segment(self.inp.slot, SegType::MProc, id);
            let mut env = Env {
                ctx: self.inp.ctxs.mproc,
                table: linked.table,
                self_pc: addr,
                statics_base: base,
                statics,
                globals: &linked.globals,
                callees: &no_callees,
                old_statics: &old,
                printfs: &mut self.printfs,
                strings: &mut self.strings,
                safepoints: true,
                mem: self.inp.ctxs.mem,
            };
            let unit = Unit::MProc {
                locals: &mp.locals,
                body: &mp.body,
            };
            let bytes = cg
                .compile(&unit, &mut env)
                .map_err(|err| LoadError::Compile {
                    kind: UnitKind::MProc,
                    name: mp.name.clone(),
                    err,
                })?;
            placer.put_code(addr, &bytes, &format!("mproc {}", mp.name))?;
            mprocs.insert(
                mp.name.clone(),
                AuxCode {
                    addr,
                    size: bytes.len() as u32,
                    old_sig: None,
                    old_version: if mp.old_statics.is_empty() {
                        None
                    } else {
                        old_ver.map(|v| v.number)
                    },
                },
            );
        }
        Ok(mprocs)
    }
}

/// Resolves an mproc's `old.NAME` reads: (offset, type) of each in the old
/// data of `old_ver` (a procedure's statics) or `prev` (a global).
fn old_statics(
    mp: &compiler::ir::MProc,
    old_ver: Option<&Version>,
    prev: Option<&Version>,
) -> Result<Vec<(u32, VarTy)>, LoadError> {
    let mut old = Vec::new();
    for os in &mp.old_statics {
        let found = match (
            old_ver.and_then(|pv| pv.procs.get(&mp.name)),
            prev.and_then(|pv| pv.globals.get(&mp.name)),
        ) {
            (Some(pp), _) => pp
                .statics
                .iter()
                .find(|s| s.name == os.name)
                .map(|s| (s.offset, s.ty)),
            (None, Some(pg)) if os.name == mp.name => Some((0, pg.ty)),
            _ => None,
        };
        match found {
            Some((off, ty)) if ty == os.ty => old.push((off, ty)),
            Some((_, ty)) => {
                return Err(LoadError::MProcOldType {
                    name: mp.name.clone(),
                    old: os.name.clone(),
                    actual: ty_string(ty),
                    version: old_ver.map_or(VersionNo(0), |v| v.number),
                    declared: ty_string(os.ty),
                });
            }
            None => {
                return Err(LoadError::MProcNoOld {
                    name: mp.name.clone(),
                    old: os.name.clone(),
                    version: old_ver.map_or(VersionNo(0), |v| v.number),
                });
            }
        }
    }
    Ok(old)
}

/// Printf descriptors and string literals made while compiling, per thread.
type Owned = (Vec<Box<Printf>>, Vec<CString>);

/// Procedures smaller than this are compiled on the calling thread only.
const PARALLEL_FROM: usize = 64;

/// Loads of at least this many procedures compile with [`Tier::Quick`]
/// (ARCHITECTURE.md, "Load time"); `PODUS_QUICK_TIER_FROM` overrides it (for
/// benchmarks).
pub const QUICK_TIER_FROM: usize = 2000;

/// The tier a load of `procs` procedures compiles with.
pub fn tier_for(procs: usize) -> Tier {
    let from = std::env::var("PODUS_QUICK_TIER_FROM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(QUICK_TIER_FROM);
    if procs >= from {
        Tier::Quick
    } else {
        Tier::Optimized
    }
}

/// Compile the module's procedures, in module order. Large modules are
/// split across the machine's cores, each with its own code generator.
fn compile_procs(
    cg: &mut Codegen,
    module: &Module,
    procs: &BTreeMap<String, ProcInfo>,
    linked: &Linked,
    ctxs: &Ctxs,
) -> Result<(Vec<Vec<u8>>, Vec<Owned>), LoadError> {
    let compile_chunk = |cg: &mut Codegen,
                         chunk: &[compiler::ir::Proc]|
     -> Result<(Vec<Vec<u8>>, Owned), LoadError> {
        let mut owned: Owned = (Vec::new(), Vec::new());
        let mut out = Vec::with_capacity(chunk.len());
        for p in chunk {
            let info = &procs[&p.name];
            let mut env = Env {
                ctx: ctxs.program,
                table: linked.table,
                self_pc: info.code,
                statics_base: info.data,
                statics: &p.statics,
                globals: &linked.globals,
                callees: &linked.callees,
                old_statics: &[],
                printfs: &mut owned.0,
                strings: &mut owned.1,
                safepoints: ctxs.safepoints,
                mem: ctxs.mem,
            };
            let unit = Unit::Proc {
                sig: &p.sig,
                locals: &p.locals,
                body: &p.body,
            };
            let bytes = cg
                .compile(&unit, &mut env)
                .map_err(|err| LoadError::Compile {
                    kind: UnitKind::Procedure,
                    name: p.name.clone(),
                    err,
                })?;
            out.push(bytes);
        }
        Ok((out, owned))
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let tier = tier_for(module.procs.len());
    if tier == Tier::Quick {
        // The shared generator is the optimizing one; quick ones are made
        // per thread (building one costs microseconds).
        let mut quick = Codegen::with_tier(tier).map_err(LoadError::Codegen)?;
        if threads < 2 {
            let (code, owned) = compile_chunk(&mut quick, &module.procs)?;
            return Ok((code, vec![owned]));
        }
        return compile_parallel(Box::new(quick), module, threads, tier, &compile_chunk);
    }
    if threads < 2 || module.procs.len() < PARALLEL_FROM {
        // On a big-stack compile thread, as every chunk is: the lowering
        // recurses once per level of the IR.
        let (code, owned) = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("pup-compile".into())
                .stack_size(COMPILE_STACK)
                .spawn_scoped(scope, || compile_chunk(cg, &module.procs))
                .map_err(|_| LoadError::CompilerThread)?
                .join()
                .unwrap_or(Err(LoadError::CompilerThread))
        })?;
        return Ok((code, vec![owned]));
    }
    compile_parallel(cg, module, threads, Tier::Optimized, &compile_chunk)
}

type Chunk = (Vec<Vec<u8>>, Owned);

/// The stack of a compile thread: the code generator recurses once per
/// level of a procedure's IR (up to `compiler::limits::MAX_IR_DEPTH`, a
/// few hundred bytes to a KiB each), which a 2 MiB thread (std's default,
/// the pup's connection threads) does not hold at the bound. Only the pages
/// a compile touches are ever committed.
const COMPILE_STACK: usize = 64 << 20;

/// Compiles `module`'s procedures in `threads` chunks: the first on this
/// thread with `cg`, the others each with a generator of `tier` of its own.
fn compile_parallel<G, F>(
    mut cg: G,
    module: &Module,
    threads: usize,
    tier: Tier,
    compile_chunk: &F,
) -> Result<(Vec<Vec<u8>>, Vec<Owned>), LoadError>
where
    G: std::ops::DerefMut<Target = Codegen>,
    F: Fn(&mut Codegen, &[compiler::ir::Proc]) -> Result<Chunk, LoadError> + Sync,
{
    let per = module.procs.len().div_ceil(threads);
    let chunks: Vec<&[compiler::ir::Proc]> = module.procs.chunks(per).collect();
    let results: Vec<Result<Chunk, LoadError>> = std::thread::scope(|scope| {
        let (first, rest) = chunks.split_first().expect("at least one chunk");
        let handles: Vec<_> = rest
            .iter()
            .map(|chunk| {
                std::thread::Builder::new()
                    .name("pup-compile".into())
                    .stack_size(COMPILE_STACK)
                    .spawn_scoped(scope, move || {
                        let mut own = Codegen::with_tier(tier).map_err(LoadError::Codegen)?;
                        compile_chunk(&mut own, chunk)
                    })
            })
            .collect();
        let shared: &mut Codegen = &mut cg;
        let first = std::thread::Builder::new()
            .name("pup-compile".into())
            .stack_size(COMPILE_STACK)
            .spawn_scoped(scope, move || compile_chunk(shared, first));
        let mut results = Vec::new();
        for h in std::iter::once(first).chain(handles) {
            results.push(match h {
                Ok(h) => h.join().unwrap_or(Err(LoadError::CompilerThread)),
                Err(_) => Err(LoadError::CompilerThread),
            });
        }
        results
    });
    let mut code = Vec::with_capacity(module.procs.len());
    let mut owned = Vec::new();
    for r in results {
        let (c, o) = r?;
        code.extend(c);
        owned.push(o);
    }
    Ok((code, owned))
}

fn ty_string(t: VarTy) -> String {
    t.to_string()
}
