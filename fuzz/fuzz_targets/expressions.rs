//! The small languages inside values: business rules (`bp_rule!…`), Shinken/Alignak hostgroup
//! expressions, and external command lines as `route` reads them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = monitorc_compiler::bprule::parse(text);
    let _ = monitorc_compiler::hostexpr::parse(text);
    let _ = monitorc_runtime::commands::parse(text);
});
