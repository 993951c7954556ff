#!/usr/bin/env python3
"""Verify the UC golden corpus against gcc.

Usage:
    python3 tests/corpus/verify_with_gcc.py [-v] [--bless] [--keep DIR] [NAME ...]

For every tests/corpus/NN_name.uc (or only the NAMEs given) this script
translates the UC program to C, compiles it with `gcc -O0 -fwrapv -w`, runs it
and compares what it printed with NN_name.out, its exit code with the `exit:`
line of NN_name.expect (0 when there is no .expect) and, when the .expect has an
`error:` line, checks that the C run stopped with a message containing it.
`--bless` (re)writes the .out/.expect files from the C run instead; every
blessed output was then read by hand.

The translation is not a regex transform: the script holds a small parser and
type checker for exactly the UC language of SPEC section 2, so it also rejects
programs that step outside UC (?:, bitwise operators, pointers, `long`, ...), a
double argument for an int parameter, a %d conversion given a double, and so
on. The C it writes is fully parenthesized and:

  * prefixes every user identifier with `u_` (no clash with libc names) and
    renames main to u_main; the C main calls u_main() and returns its value
    (main's return value is the exit code, SPEC 2.2);
  * maps `int` and `long` to `long` (64-bit) and writes int literals with an
    L suffix (UC's `int` is C's 32-bit int since SPEC 2.3; the programs here
    that need 64 bits say `long`, and the rest keep within 32 bits, so this
    one integer type prints what C's two would);
    -fwrapv gives the wrapping + - * and unary minus of UC;
  * int `/` and `%` (also `/=` and `%=`) call uc_div/uc_rem, which stop with
    "error: division by zero" on a zero divisor (exit 1) and give UC's
    wrapping results for INT_MIN / -1 (INT_MIN) and INT_MIN % -1 (0), where
    the C operators would trap with SIGFPE;
  * every `a[i]` becomes `a[uc_ix(i, len)]`, which stops with "error: index out
    of bounds" (exit 1) unless 0 <= i < len; the index is evaluated once, so
    `a[i++] += 1` keeps its meaning;
  * array parameters `int a[]` become `long *a, long a__len`; a call passing an
    array passes `(arr, its length)`, and `len(a)` is a__len for a parameter and
    sizeof(arr)/sizeof(arr[0]) for a declared array;
  * K&R definitions `f(a, b) int a; double b; {...}` and an omitted return type
    (int) become prototype-style definitions; prototypes of all procedures are
    emitted first, so calls may precede definitions;
  * every non-void procedure gets a `return 0;` after its body: falling off the
    end returns 0 in UC (in C it would be undefined);
  * every procedure is wrapped to count the call depth; above UC_MAX_DEPTH
    (5000) frames the run stops with "error: stack overflow" (exit 1). The
    corpus keeps legitimate recursion far below that (the script reports the
    deepest recursion of each program with -v);
  * `(int)` of a double calls uc_d2i: truncation toward zero, saturating, NaN
    -> 0 (the IR's contract; in C an out-of-range conversion is undefined);
  * printf keeps its format, with %d/%i widened to %ld/%li and %c given an
    (int) argument; sleep_ms uses usleep, now_ms clock_gettime(CLOCK_REALTIME),
    exit() flushes stdout and exits.

So the run-time errors of UC are checked by code this script inserts, not by
gcc itself; the output printed before the error, and everything else, is what
the C program printed.
"""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_DEPTH = 5000

PRELUDE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <math.h>
static long uc_depth, uc_max_depth;
static void uc_trap(const char *msg) {
    fflush(stdout);
    fprintf(stderr, "error: %s\n", msg);
    fprintf(stderr, "uc-max-depth: %ld\n", uc_max_depth);
    _exit(1);
}
static void uc_enter(void) {
    if (++uc_depth > %MAX%) uc_trap("stack overflow");
    if (uc_depth > uc_max_depth) uc_max_depth = uc_depth;
}
static long uc_div(long a, long b) {
    if (b == 0) uc_trap("division by zero");
    if (b == -1) return (long)(0UL - (unsigned long)a);
    return a / b;
}
static long uc_rem(long a, long b) {
    if (b == 0) uc_trap("division by zero (remainder)");
    if (b == -1) return 0;
    return a % b;
}
static long uc_ix(long i, long n) {
    if (i < 0 || i >= n) uc_trap("index out of bounds");
    return i;
}
static long uc_d2i(double d) {
    if (d != d) return 0;
    if (d >= 9223372036854775807.0) return 9223372036854775807L;
    if (d <= -9223372036854775808.0) return (-9223372036854775807L - 1);
    return (long)d;
}
static void uc_sleep_ms(long ms) { if (ms > 0) usleep((useconds_t)(ms * 1000)); }
static long uc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static void uc_exit(long code) {
    fflush(stdout);
    fprintf(stderr, "uc-max-depth: %ld\n", uc_max_depth);
    exit((int)code);
}
""".replace("%MAX%", str(MAX_DEPTH))


class UCError(Exception):
    pass


# ---------------------------------------------------------------- lexer

TOKEN_RE = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<lcomment>//[^\n]*)
  | (?P<bcomment>/\*.*?\*/)
  | (?P<double>(?:\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+))
  | (?P<int>\d+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\+\+|--|\+=|-=|\*=|/=|%=|==|!=|<=|>=|&&|\|\||[-+*/%<>=!()\[\]{},;.])
""", re.S | re.X)

KEYWORDS = {"int", "double", "void", "static", "if", "else", "while", "for",
            "break", "continue", "return"}
BUILTINS = {"printf", "sleep_ms", "now_ms", "len", "exit"}
# C words that are not UC: a UC program using them is outside the subset
FORBIDDEN = {"char", "unsigned", "signed", "short", "float", "struct",
             "union", "switch", "case", "default", "do", "goto", "sizeof",
             "typedef", "enum", "const", "extern", "register", "volatile",
             "auto", "mproc", "iproc", "new", "old"}


class Tok:
    def __init__(self, kind, text, line, col):
        self.kind, self.text, self.line, self.col = kind, text, line, col

    def __repr__(self):
        return f"{self.text!r}@{self.line}:{self.col}"


def lex(src):
    toks, pos, line, lstart = [], 0, 1, 0
    while pos < len(src):
        m = TOKEN_RE.match(src, pos)
        if not m:
            raise UCError(f"{line}:{pos - lstart + 1}: bad character {src[pos]!r}")
        kind, text = m.lastgroup, m.group()
        if kind not in ("ws", "lcomment", "bcomment"):
            if kind == "ident" and text == "long":
                # The golden corpus's 64-bit integer: since SPEC 2.3 `int`
                # is C's 32-bit int and the programs that need 64 bits say
                # `long`. Both are the script's one integer type, emitted as
                # C `long`: the corpus keeps its `int` values within 32 bits,
                # so an `int` computed in 64 bits prints the same.
                text = "int"
            if kind == "ident" and text in KEYWORDS:
                kind = "kw"
            if kind == "ident" and text in FORBIDDEN:
                raise UCError(f"{line}: '{text}' is not UC")
            toks.append(Tok(kind, text, line, pos - lstart + 1))
        nl = text.count("\n")
        if nl:
            line += nl
            lstart = pos + text.rfind("\n") + 1
        pos = m.end()
    toks.append(Tok("eof", "", line, 0))
    return toks


# ---------------------------------------------------------------- parser (AST as tuples/dicts)

class Parser:
    def __init__(self, toks):
        self.t, self.i = toks, 0

    def peek(self, k=0):
        return self.t[self.i + k]

    def at(self, text, k=0):
        tok = self.peek(k)
        return tok.text == text and tok.kind in ("punct", "kw")

    def next(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def expect(self, text):
        tok = self.next()
        if tok.text != text or tok.kind not in ("punct", "kw"):
            raise UCError(f"{tok.line}:{tok.col}: expected '{text}', found '{tok.text}'")
        return tok

    def ident(self):
        tok = self.next()
        if tok.kind != "ident":
            raise UCError(f"{tok.line}:{tok.col}: expected a name, found '{tok.text}'")
        return tok.text

    def err(self, msg):
        tok = self.peek()
        raise UCError(f"{tok.line}:{tok.col}: {msg} (at '{tok.text}')")

    # program
    def program(self):
        items = []
        while self.peek().kind != "eof":
            if self.at("int") or self.at("double") or self.at("void"):
                if self.peek(1).kind == "ident" and self.at("(", 2):
                    items.append(self.function(self.next().text))
                else:
                    items.append(("globals", self.declaration(False)))
            elif self.peek().kind == "ident" and self.at("(", 1):
                items.append(self.function("int"))
            else:
                self.err("expected a declaration or a procedure")
        return items

    def function(self, ret):
        name = self.ident()
        self.expect("(")
        params = []  # [name, type, is_array]
        knr = False
        if not self.at(")"):
            if self.at("int") or self.at("double"):
                while True:
                    ty = self.next().text
                    pname = self.ident()
                    arr = False
                    if self.at("["):
                        self.next()
                        self.expect("]")
                        arr = True
                    params.append([pname, ty, arr])
                    if not self.at(","):
                        break
                    self.next()
            elif self.at("void") and self.at(")", 1):
                self.next()
            else:
                knr = True
                while True:
                    params.append([self.ident(), "int", False])
                    if not self.at(","):
                        break
                    self.next()
        self.expect(")")
        if knr:
            byname = {p[0]: p for p in params}
            while self.at("int") or self.at("double"):
                ty = self.next().text
                while True:
                    pname = self.ident()
                    if pname not in byname:
                        self.err(f"'{pname}' is not a parameter")
                    byname[pname][1] = ty
                    if self.at("["):
                        self.next()
                        self.expect("]")
                        byname[pname][2] = True
                    if not self.at(","):
                        break
                    self.next()
                self.expect(";")
        body = self.block()
        return ("func", {"name": name, "ret": ret, "params": params, "body": body})

    def declaration(self, allow_static=True):
        static = False
        if self.at("static"):
            if not allow_static:
                self.err("static at top level is not UC")
            self.next()
            static = True
        ty = self.next().text
        if ty not in ("int", "double"):
            self.err("expected int or double")
        decls = []
        while True:
            name = self.ident()
            size = None
            if self.at("["):
                self.next()
                tok = self.next()
                if tok.kind != "int":
                    self.err("array size must be an integer literal")
                size = int(tok.text)
                self.expect("]")
            init = None
            if self.at("="):
                self.next()
                if size is not None:
                    self.expect("{")
                    init = []
                    while not self.at("}"):
                        init.append(self.expr_assign())
                        if self.at(","):
                            self.next()
                        else:
                            break
                    self.expect("}")
                    if len(init) > size:
                        self.err("too many initializers")
                else:
                    init = self.expr_assign()
            decls.append({"name": name, "size": size, "init": init})
            if not self.at(","):
                break
            self.next()
        self.expect(";")
        return {"static": static, "type": ty, "decls": decls}

    def block(self):
        self.expect("{")
        stmts = []
        while not self.at("}"):
            stmts.append(self.statement())
        self.expect("}")
        return ("block", stmts)

    def statement(self):
        if self.at("{"):
            return self.block()
        if self.at("int") or self.at("double") or self.at("static"):
            return ("decl", self.declaration())
        if self.at("if"):
            self.next()
            self.expect("(")
            c = self.expr()
            self.expect(")")
            then = self.statement()
            els = None
            if self.at("else"):
                self.next()
                els = self.statement()
            return ("if", c, then, els)
        if self.at("while"):
            self.next()
            self.expect("(")
            c = self.expr()
            self.expect(")")
            return ("while", c, self.statement())
        if self.at("for"):
            self.next()
            self.expect("(")
            init = None if self.at(";") else self.expr()
            self.expect(";")
            cond = None if self.at(";") else self.expr()
            self.expect(";")
            step = None if self.at(")") else self.expr()
            self.expect(")")
            return ("for", init, cond, step, self.statement())
        if self.at("break") or self.at("continue"):
            kw = self.next().text
            self.expect(";")
            return (kw,)
        if self.at("return"):
            self.next()
            e = None if self.at(";") else self.expr()
            self.expect(";")
            return ("return", e)
        if self.at(";"):
            self.next()
            return ("empty",)
        e = self.expr()
        self.expect(";")
        return ("expr", e)

    # expressions
    def expr(self):
        return self.expr_assign()

    def expr_assign(self):
        lhs = self.expr_or()
        if self.peek().kind == "punct" and self.peek().text in ("=", "+=", "-=", "*=", "/=", "%="):
            op = self.next().text
            rhs = self.expr_assign()
            return ("assign", op, lhs, rhs)
        return lhs

    def binary_level(self, ops, sub):
        lhs = sub()
        while self.peek().kind == "punct" and self.peek().text in ops:
            op = self.next().text
            lhs = ("bin", op, lhs, sub())
        return lhs

    def expr_or(self):
        return self.binary_level(("||",), self.expr_and)

    def expr_and(self):
        return self.binary_level(("&&",), self.expr_eq)

    def expr_eq(self):
        return self.binary_level(("==", "!="), self.expr_rel)

    def expr_rel(self):
        return self.binary_level(("<", "<=", ">", ">="), self.expr_add)

    def expr_add(self):
        return self.binary_level(("+", "-"), self.expr_mul)

    def expr_mul(self):
        return self.binary_level(("*", "/", "%"), self.expr_unary)

    def expr_unary(self):
        if self.at("-"):
            self.next()
            return ("neg", self.expr_unary())
        if self.at("!"):
            self.next()
            return ("not", self.expr_unary())
        if self.at("++") or self.at("--"):
            op = self.next().text
            return ("preinc", op, self.expr_unary())
        if self.at("(") and (self.at("int", 1) or self.at("double", 1)) and self.at(")", 2):
            self.next()
            ty = self.next().text
            self.next()
            return ("cast", ty, self.expr_unary())
        return self.expr_postfix()

    def expr_postfix(self):
        e = self.primary()
        while True:
            if self.at("["):
                self.next()
                idx = self.expr()
                self.expect("]")
                e = ("index", e, idx)
            elif self.at("++") or self.at("--"):
                e = ("postinc", self.next().text, e)
            else:
                return e

    def primary(self):
        tok = self.next()
        if tok.kind == "int":
            v = int(tok.text)
            if v > 2**63 - 1:
                raise UCError(f"{tok.line}: integer literal too large")
            return ("int", v)
        if tok.kind == "double":
            return ("double", tok.text)
        if tok.kind == "string":
            return ("string", tok.text)
        if tok.kind == "ident":
            if self.at("("):
                self.next()
                args = []
                if not self.at(")"):
                    while True:
                        args.append(self.expr_assign())
                        if not self.at(","):
                            break
                        self.next()
                self.expect(")")
                return ("call", tok.text, args, tok.line)
            return ("name", tok.text, tok.line)
        if tok.text == "(" and tok.kind == "punct":
            e = self.expr()
            self.expect(")")
            return e
        raise UCError(f"{tok.line}:{tok.col}: expected an expression, found '{tok.text}'")


# ---------------------------------------------------------------- checker + C emitter

CTYPE = {"int": "long", "double": "double", "void": "void"}
FMT_RE = re.compile(r"%(%|[-+ 0#]*\d*(?:\.\d*)?(l?)([a-zA-Z]))")


class Emitter:
    def __init__(self, items):
        self.items = items
        self.funcs = {}
        self.globals = {}
        self.scopes = []
        self.out = []
        self.cur = None

    def lookup(self, name, line):
        for sc in reversed(self.scopes):
            if name in sc:
                return sc[name]
        if name in self.globals:
            return self.globals[name]
        raise UCError(f"{line}: unknown name '{name}'")

    def length_of(self, sym):
        if sym["kind"] == "arrparam":
            return f"u_{sym['name']}__len"
        return f"((long)(sizeof(u_{sym['name']})/sizeof(u_{sym['name']}[0])))"

    # expression -> (code, type); type in int/double/void/string
    def ex(self, e, const=False):
        k = e[0]
        if k == "int":
            return f"{e[1]}L", "int"
        if k == "double":
            return f"{e[1]}", "double"
        if k == "string":
            raise UCError("a string literal may only be a printf format or %s argument")
        if k == "name":
            sym = self.lookup(e[1], e[2])
            if sym["kind"] != "scalar":
                raise UCError(f"{e[2]}: array '{e[1]}' used as a value")
            return f"u_{e[1]}", sym["type"]
        if k == "index":
            return self.place(e)
        if k == "neg":
            c, t = self.ex(e[1], const)
            self.scalar(t)
            return f"(-{c})", t
        if k == "not":
            c, t = self.ex(e[1], const)
            self.scalar(t)
            return f"((long)!{c})", "int"
        if k == "cast":
            c, t = self.ex(e[2], const)
            self.scalar(t)
            if e[1] == "int":
                return (f"uc_d2i({c})" if t == "double" else c), "int"
            return f"((double){c})", "double"
        if k == "bin":
            op = e[1]
            lc, lt = self.ex(e[2], const)
            rc, rt = self.ex(e[3], const)
            self.scalar(lt)
            self.scalar(rt)
            if op in ("&&", "||"):
                if lt != "int" or rt != "int":
                    raise UCError(f"operands of {op} must be int in UC")
                return f"((long)({lc} {op} {rc}))", "int"
            if op in ("==", "!=", "<", "<=", ">", ">="):
                return f"((long)({lc} {op} {rc}))", "int"
            t = "double" if "double" in (lt, rt) else "int"
            if op == "%" and t != "int":
                raise UCError("% needs int operands")
            if t == "int" and op == "/" and not const:
                return f"uc_div({lc}, {rc})", t
            if t == "int" and op == "%" and not const:
                return f"uc_rem({lc}, {rc})", t
            return f"({lc} {op} {rc})", t
        if k == "assign":
            if const:
                raise UCError("assignment in a constant expression")
            op, lhs, rhs = e[1], e[2], e[3]
            pc, pt = self.place(lhs)
            rc, rt = self.ex(rhs)
            self.scalar(rt)
            if pt == "int" and rt == "double":
                raise UCError(f"assigning a double to an int needs a cast ({op})")
            if op == "=":
                return f"({pc} = {rc})", pt
            if pt == "int" and op in ("/=", "%="):
                fn = "uc_div" if op == "/=" else "uc_rem"
                return f"({{ long *uc_p = &{pc}; *uc_p = {fn}(*uc_p, {rc}); }})", pt
            if op == "%=":
                raise UCError("%= needs an int place")
            return f"({pc} {op} {rc})", pt
        if k in ("preinc", "postinc"):
            if const:
                raise UCError("++/-- in a constant expression")
            pc, pt = self.place(e[2])
            return (f"({e[1]}{pc})" if k == "preinc" else f"({pc}{e[1]})"), pt
        if k == "call":
            if const:
                raise UCError("call in a constant expression")
            return self.call(e)
        raise UCError(f"unknown expression {k}")

    def scalar(self, t):
        if t not in ("int", "double"):
            raise UCError(f"a {t} value used in an expression")

    def place(self, e):
        if e[0] == "name":
            sym = self.lookup(e[1], e[2])
            if sym["kind"] != "scalar":
                raise UCError(f"{e[2]}: array '{e[1]}' is not assignable")
            return f"u_{e[1]}", sym["type"]
        if e[0] == "index":
            base = e[1]
            if base[0] != "name":
                raise UCError("only a named array can be indexed")
            sym = self.lookup(base[1], base[2])
            if sym["kind"] == "scalar":
                raise UCError(f"{base[2]}: '{base[1]}' is not an array")
            ic, it = self.ex(e[2])
            if it != "int":
                raise UCError("array index must be int")
            return f"u_{base[1]}[uc_ix({ic}, {self.length_of(sym)})]", sym["type"]
        raise UCError("not an assignable place")

    def array_arg(self, a, what):
        if a[0] != "name":
            raise UCError(f"{what}: expected an array name")
        sym = self.lookup(a[1], a[2])
        if sym["kind"] == "scalar":
            raise UCError(f"{a[2]}: {what}: '{a[1]}' is not an array")
        return sym

    def call(self, e):
        _, name, args, line = e
        if name == "printf":
            return self.printf(args, line), "void"
        if name == "sleep_ms" or name == "exit":
            if len(args) != 1:
                raise UCError(f"{line}: {name} takes one argument")
            c, t = self.ex(args[0])
            if t != "int":
                raise UCError(f"{line}: {name} needs an int")
            return f"uc_{name}({c})", "void"
        if name == "now_ms":
            if args:
                raise UCError(f"{line}: now_ms takes no argument")
            return "uc_now_ms()", "int"
        if name == "len":
            if len(args) != 1:
                raise UCError(f"{line}: len takes one argument")
            return self.length_of(self.array_arg(args[0], "len")), "int"
        if name not in self.funcs:
            raise UCError(f"{line}: unknown procedure '{name}'")
        f = self.funcs[name]
        if len(args) != len(f["params"]):
            raise UCError(f"{line}: '{name}' takes {len(f['params'])} arguments")
        parts = []
        for a, (pname, pty, parr) in zip(args, f["params"]):
            if parr:
                sym = self.array_arg(a, f"argument '{pname}' of '{name}'")
                if sym["type"] != pty:
                    raise UCError(f"{line}: array argument '{pname}' of '{name}' has the wrong element type")
                parts.append(f"u_{sym['name']}")
                parts.append(self.length_of(sym))
            else:
                c, t = self.ex(a)
                self.scalar(t)
                if pty == "int" and t == "double":
                    raise UCError(f"{line}: double argument for int parameter '{pname}' of '{name}'")
                parts.append(c)
        return f"u_{name}({', '.join(parts)})", f["ret"]

    def printf(self, args, line):
        if not args or args[0][0] != "string":
            raise UCError(f"{line}: printf needs a literal format")
        fmt = args[0][1]
        rest = args[1:]
        out_args = []
        convs = [m for m in FMT_RE.finditer(fmt) if m.group(1) != "%"]
        if len(convs) != len(rest):
            raise UCError(f"{line}: printf format has {len(convs)} conversions, {len(rest)} arguments")

        def fix(m):
            if m.group(1) == "%":
                return "%%"
            spec, l, conv = m.group(1), m.group(2), m.group(3)
            if conv not in "difegcs" or (l and conv not in "fdi"):
                raise UCError(f"{line}: conversion %{spec} is not UC")
            if conv in "di" and not l:
                return "%" + spec[:-1] + "l" + conv
            return "%" + spec

        cfmt = FMT_RE.sub(fix, fmt)
        for m, a in zip(convs, rest):
            conv = m.group(3)
            if conv == "s":
                if a[0] != "string":
                    raise UCError(f"{line}: %s needs a string literal")
                out_args.append(a[1])
                continue
            c, t = self.ex(a)
            if conv in "dic" and t != "int":
                raise UCError(f"{line}: %{conv} given a {t}")
            if conv in "feg" and t != "double":
                raise UCError(f"{line}: %{conv} given a {t}")
            out_args.append(f"(int){c}" if conv == "c" else c)
        return f"printf({', '.join([cfmt] + out_args)})"

    # statements
    def emit(self, s, ind):
        pad = "    " * ind
        k = s[0]
        if k == "block":
            self.out.append(pad + "{")
            self.scopes.append({})
            for st in s[1]:
                self.emit(st, ind + 1)
            self.scopes.pop()
            self.out.append(pad + "}")
        elif k == "decl":
            self.decl(s[1], pad, local=True)
        elif k == "if":
            c, t = self.ex(s[1])
            self.scalar(t)
            self.out.append(pad + f"if ({c})")
            self.emit_sub(s[2], ind)
            if s[3] is not None:
                self.out.append(pad + "else")
                self.emit_sub(s[3], ind)
        elif k == "while":
            c, t = self.ex(s[1])
            self.scalar(t)
            self.out.append(pad + f"while ({c})")
            self.emit_sub(s[2], ind)
        elif k == "for":
            init = self.ex(s[1])[0] if s[1] else ""
            cond = ""
            if s[2]:
                cond, t = self.ex(s[2])
                self.scalar(t)
            step = self.ex(s[3])[0] if s[3] else ""
            self.out.append(pad + f"for ({init}; {cond}; {step})")
            self.emit_sub(s[4], ind)
        elif k in ("break", "continue"):
            self.out.append(pad + k + ";")
        elif k == "return":
            ret = self.cur["ret"]
            if s[1] is None:
                if ret != "void":
                    raise UCError(f"'return;' in non-void procedure {self.cur['name']}")
                self.out.append(pad + "return;")
            else:
                c, t = self.ex(s[1])
                if ret == "void":
                    raise UCError(f"return with a value in void procedure {self.cur['name']}")
                self.scalar(t)
                if ret == "int" and t == "double":
                    raise UCError(f"returning a double from int procedure {self.cur['name']} needs a cast")
                self.out.append(pad + f"return {c};")
        elif k == "empty":
            self.out.append(pad + ";")
        elif k == "expr":
            self.out.append(pad + self.ex(s[1])[0] + ";")
        else:
            raise UCError(f"unknown statement {k}")

    def emit_sub(self, s, ind):
        # a sub-statement that is not a block still gets its own scope in C; fine
        if s[0] == "decl":
            raise UCError("a declaration cannot be the body of if/while/for")
        self.emit(s, ind + 1 if s[0] != "block" else ind)

    def decl(self, d, pad, local):
        ty = d["type"]
        static = d["static"] or not local
        for x in d["decls"]:
            name = x["name"]
            if x["size"] is not None:
                if x["init"] is not None:
                    if local and not d["static"]:
                        raise UCError(f"brace initializer on local array '{name}' (not used in the corpus)")
                    vals = []
                    for v in x["init"]:
                        c, t = self.ex(v, const=True)
                        if ty == "int" and t == "double":
                            raise UCError(f"double initializer for int array '{name}'")
                        vals.append(c)
                    init = " = {" + ", ".join(vals) + "}"
                else:
                    init = " = {0}"
                sym = {"kind": "array", "type": ty, "name": name}
                code = f"{CTYPE[ty]} u_{name}[{x['size']}]{init};"
            else:
                init = ""
                if x["init"] is not None:
                    c, t = self.ex(x["init"], const=static)
                    self.scalar(t)
                    if ty == "int" and t == "double":
                        raise UCError(f"double initializer for int '{name}' needs a cast")
                    init = f" = {c}"
                elif static:
                    init = " = 0"
                sym = {"kind": "scalar", "type": ty, "name": name}
                code = f"{CTYPE[ty]} u_{name}{init};"
            if d["static"]:
                code = "static " + code
            # declare after the initializer is checked (C scope rule: the name is
            # in scope in its own initializer; UC programs here never use that)
            (self.scopes[-1] if local else self.globals)[name] = sym
            self.out.append(pad + code)

    def cparams(self, f):
        ps = []
        for pname, pty, parr in f["params"]:
            if parr:
                ps.append(f"{CTYPE[pty]} *u_{pname}")
                ps.append(f"long u_{pname}__len")
            else:
                ps.append(f"{CTYPE[pty]} u_{pname}")
        return ", ".join(ps) or "void"

    def run(self):
        for kind, it in self.items:
            if kind == "func":
                if it["name"] in self.funcs or it["name"] in BUILTINS:
                    raise UCError(f"procedure '{it['name']}' defined twice or a builtin")
                self.funcs[it["name"]] = it
        if "main" not in self.funcs:
            raise UCError("no main")
        if self.funcs["main"]["params"]:
            raise UCError("main takes no parameters")
        self.out.append(PRELUDE)
        for f in self.funcs.values():
            self.out.append(f"static {CTYPE[f['ret']]} u_{f['name']}({self.cparams(f)});")
        for kind, it in self.items:
            if kind == "globals":
                self.decl(it, "", local=False)
                continue
            f = it
            self.cur = f
            ret = CTYPE[f["ret"]]
            self.out.append(f"static {ret} u_{f['name']}__body({self.cparams(f)})")
            self.scopes = [{}]
            for pname, pty, parr in f["params"]:
                self.scopes[0][pname] = {"kind": "arrparam" if parr else "scalar",
                                         "type": pty, "name": pname}
            # the body block opens a new C scope; parameters live in the outer one
            self.out.append("{")
            self.emit(f["body"], 1)
            if f["ret"] != "void":
                self.out.append("    return 0;  /* UC: falling off the end returns 0 */")
            self.out.append("}")
            self.scopes = []
            names = []
            for pname, pty, parr in f["params"]:
                names.append(f"u_{pname}")
                if parr:
                    names.append(f"u_{pname}__len")
            call = f"u_{f['name']}__body({', '.join(names)})"
            self.out.append(f"static {ret} u_{f['name']}({self.cparams(f)})")
            if f["ret"] == "void":
                self.out.append(f"{{ uc_enter(); {call}; uc_depth--; }}")
            else:
                self.out.append(f"{{ uc_enter(); {ret} r = {call}; uc_depth--; return r; }}")
        main_ret = self.funcs["main"]["ret"] if "main" in self.funcs else "int"
        if main_ret == "int":
            # main's return value is the exit code (SPEC 2.2), as in C.
            self.out.append("int main(void) { long r = u_main(); fflush(stdout);"
                            " fprintf(stderr, \"uc-max-depth: %ld\\n\", uc_max_depth);"
                            " return (int) r; }")
        else:
            self.out.append("int main(void) { u_main(); fflush(stdout);"
                            " fprintf(stderr, \"uc-max-depth: %ld\\n\", uc_max_depth); return 0; }")
        return "\n".join(self.out) + "\n"


def is_real_c(src):
    """A program of the SPEC 2.2 corpus (65 onwards): valid C as written,
    starting with `#include` lines. It uses what UC shares with C only
    where both mean the same (64-bit values are `long`, `int` values stay in
    32 bits, `unsigned long` for unsigned arithmetic), so gcc compiles the
    very text UC runs, with no translation and no inserted checks."""
    return src.lstrip().startswith("#include")


def translate(src):
    if is_real_c(src):
        return src
    return Emitter(Parser(lex(src)).program()).run()


# ---------------------------------------------------------------- driver

def read_expect(path):
    exp = {"exit": 0, "error": None}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if not line:
                continue
            key, _, val = line.partition(":")
            val = val.strip()
            if key == "exit":
                exp["exit"] = int(val)
            elif key == "error":
                exp["error"] = val
            else:
                raise UCError(f"{path}: unknown line {line!r}")
    return exp


def run_one(uc, tmp, bless, verbose, keep):
    base = uc[:-3]
    name = os.path.basename(base)
    try:
        csrc = translate(open(uc).read())
    except UCError as e:
        return False, f"{name}: not UC: {e}"
    cfile = os.path.join(tmp, name + ".c")
    exe = os.path.join(tmp, name)
    open(cfile, "w").write(csrc)
    if keep:
        os.makedirs(keep, exist_ok=True)
        open(os.path.join(keep, name + ".c"), "w").write(csrc)
    cc = subprocess.run(["gcc", "-O0", "-fwrapv", "-w", "-o", exe, cfile, "-lm"],
                        capture_output=True, text=True)
    if cc.returncode != 0:
        return False, f"{name}: gcc failed:\n{cc.stderr}"
    try:
        r = subprocess.run([exe], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False, f"{name}: timed out"
    stderr = r.stderr.decode(errors="replace")
    depth = re.search(r"uc-max-depth: (\d+)", stderr)
    depth = int(depth.group(1)) if depth else -1
    err = re.search(r"^error: (.*)$", stderr, re.M)
    if bless:
        open(base + ".out", "wb").write(r.stdout)
        lines = []
        if r.returncode != 0 or err:
            lines.append(f"exit: {r.returncode}")
        if err:
            msg = err.group(1)
            msg = "division by zero" if msg.startswith("division by zero") else msg
            lines.append(f"error: {msg}")
        if lines:
            open(base + ".expect", "w").write("\n".join(lines) + "\n")
        elif os.path.exists(base + ".expect"):
            os.remove(base + ".expect")
    exp = read_expect(base + ".expect")
    problems = []
    want = open(base + ".out", "rb").read() if os.path.exists(base + ".out") else None
    if want is None:
        problems.append("no .out file")
    elif want != r.stdout:
        problems.append("stdout differs:\n--- expected\n" + want.decode(errors="replace")
                        + "--- gcc\n" + r.stdout.decode(errors="replace"))
    if r.returncode != exp["exit"]:
        problems.append(f"exit code {r.returncode}, expected {exp['exit']}")
    if exp["error"] is not None:
        if not err or exp["error"] not in err.group(1):
            problems.append(f"expected error containing {exp['error']!r}, got {err.group(1) if err else None!r}")
    elif err:
        problems.append(f"unexpected runtime error: {err.group(1)}")
    if depth > 1000 and exp["error"] != "stack overflow":
        problems.append(f"recursion {depth} deep: keep legitimate recursion under 1000")
    if problems:
        return False, f"{name}: " + "\n".join(problems)
    return True, f"{name}: ok (exit {r.returncode}, max call depth {depth})" if verbose else None


def main():
    args = sys.argv[1:]
    bless = "--bless" in args
    verbose = "-v" in args
    keep = None
    if "--keep" in args:
        keep = args[args.index("--keep") + 1]
        args.remove(keep)
    names = [a for a in args if not a.startswith("-")]
    files = sorted(f for f in os.listdir(HERE) if f.endswith(".uc"))
    if names:
        files = [f for f in files if any(f.startswith(n) or f[:-3] == n for n in names)]
    ok = 0
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            good, msg = run_one(os.path.join(HERE, f), tmp, bless, verbose, keep)
            ok += good
            if msg:
                print(("" if good else "FAIL ") + msg)
    print(f"{ok}/{len(files)} programs match gcc")
    sys.exit(0 if ok == len(files) else 1)


if __name__ == "__main__":
    main()
