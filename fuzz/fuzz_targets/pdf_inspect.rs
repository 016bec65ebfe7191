//! The PDF inspector of the four-properties check (encryption, JavaScript, launch actions,
//! embedded files) on any bytes.
#![no_main]

use dangan::extract::inspect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = inspect(bytes, "application/pdf");
});
