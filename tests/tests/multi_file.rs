//! A program of two files (`#include "lib.h"`, SPEC 2.3) through the real
//! ush and pup: `load` follows the include, the program runs, and a new
//! version whose only change is in the included header updates the
//! procedure defined there. Every wait is on output (`expect`, `wait`).

use podus_tests::Env;

const MAIN: &str = "#include <stdio.h>\n#include \"lib.h\"\n\
main() { int n; n = 0; while (1) { n = work(n); } }\n\
work(n) int n; { helper(n); sleep_ms(20); return n + 1; }\n";

const LIB: &str = "#ifndef LIB_H\n#define LIB_H\n#define TAG(n) printf(\"%s %d\\n\", WHO, n)\n\
#define WHO \"lib v1\"\nhelper(n) int n; { TAG(n); }\n#endif\n";

#[test]
fn load_follows_includes_and_an_update_of_the_header_takes_effect() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _pup = env.start_pup("x", &[]);
    std::fs::create_dir_all(env.path().join("v1")).unwrap();
    std::fs::create_dir_all(env.path().join("v2")).unwrap();
    env.write("v1/main.uc", MAIN);
    env.write("v1/lib.h", LIB);
    env.write("v2/main.uc", MAIN);
    env.write("v2/lib.h", &LIB.replace("lib v1", "lib v2"));
    let run = env.ush_c(
        "program x; connect; load 1 v1/main.uc; output on; run; expect \"lib v1 2\\n\"; \
         load 2 v2/main.uc; update 2; wait --timeout 30s; expect \"lib v2 \"; stop",
    );
    run.assert_ok();
    let out = run.stdout.clone();
    assert!(out.contains("lib v1 2"), "{out}");
    let after = &out[out
        .find("from version 1 to version 2")
        .unwrap_or_else(|| panic!("no update:\n{out}"))..];
    assert!(
        after.contains("1 procedure has changed between versions:\nhelper\n"),
        "only helper (defined in lib.h) changed:\n{after}"
    );
    assert!(out.contains("lib v2 "), "{out}");

    // An error in the header is shown as lib.h's line, and loads nothing.
    env.write(
        "v2/lib.h",
        "helper(n) int n; {\n  printf(\"%d\\n\", n +);\n}\n",
    );
    let run = env.ush_c("set errexit off; program x; connect; load 3 v2/main.uc");
    let all = run.all();
    assert!(all.contains("v2/lib.h:2:21"), "{all}");
}
