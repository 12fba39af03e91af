//! Parses and validates every shader with naga at build time, so a broken shader fails the
//! build with its own message instead of panicking at run time. The list and the way the
//! sources are joined match `src/shaders.rs`.

use std::path::Path;

/// (shader name, files joined in order)
const SHADERS: [(&str, &[&str]); 2] = [
    ("window", &["shaders/common.wgsl", "shaders/window.wgsl"]),
    ("frame", &["shaders/common.wgsl", "shaders/frame.wgsl"]),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for (name, files) in SHADERS {
        let mut source = String::new();
        for file in files {
            println!("cargo:rerun-if-changed={file}");
            source +=
                &std::fs::read_to_string(Path::new(file)).unwrap_or_else(|e| panic!("read {file}: {e}"));
            source.push('\n');
        }
        let module = naga::front::wgsl::parse_str(&source).unwrap_or_else(|e| {
            panic!(
                "shader `{name}` ({}) does not parse:\n{}",
                files.join(" + "),
                e.emit_to_string(&source)
            )
        });
        let mut validator = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        );
        if let Err(e) = validator.validate(&module) {
            panic!(
                "shader `{name}` ({}) is invalid:\n{}",
                files.join(" + "),
                e.emit_to_string(&source)
            );
        }
    }
}
