//! Rebuilds when a migration changes: `sqlx::migrate!` embeds the directory, but cargo does
//! not know to watch it (the build script sqlx documents for stable Rust).
//!
//! Compiles the poppler reader of `dangan-pdftext` (src/bin/pdftext/poppler.cpp) when
//! poppler's C++ library is installed (Debian: libpoppler-cpp-dev, pkg-config), and links it
//! into that binary alone. Without it the binary is built as a stub that says so, and the
//! server reads text layers with a `pdftotext` process per file, as before.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=src/bin/pdftext/poppler.cpp");
    println!("cargo:rustc-check-cfg=cfg(dangan_poppler)");
    match pkg_config::Config::new()
        .cargo_metadata(false)
        .probe("poppler-cpp")
    {
        Ok(poppler) => link_reader(&poppler),
        Err(error) => println!(
            "cargo:warning=poppler-cpp not found ({error}); dangan-pdftext is built without it \
             and PDF text layers are read by one pdftotext process per file. Install \
             libpoppler-cpp-dev and pkg-config for the faster reader."
        ),
    }
}

/// Compiles the reader and links it, with poppler-cpp, into `dangan-pdftext` only: the
/// server and the sandbox child would otherwise load poppler at every start.
fn link_reader(poppler: &pkg_config::Library) {
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .std("c++17")
        .file("src/bin/pdftext/poppler.cpp")
        .cargo_metadata(false)
        .warnings(true);
    for include in &poppler.include_paths {
        build.include(include);
    }
    build.compile("dangan_poppler");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_default();
    let bin = "cargo:rustc-link-arg-bin=dangan-pdftext";
    println!("{bin}={out_dir}/libdangan_poppler.a");
    for dir in &poppler.link_paths {
        println!("{bin}=-L{}", dir.display());
    }
    for lib in &poppler.libs {
        println!("{bin}=-l{lib}");
    }
    println!("{bin}=-lstdc++");
    println!("cargo:rustc-cfg=dangan_poppler");
}
