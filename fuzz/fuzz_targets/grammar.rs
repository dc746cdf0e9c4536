//! The grammar on arbitrary bytes: decoded as the loader does (bytes that are not UTF-8 kept as
//! escape characters), parsed; every span of the tree and of the diagnostics lies in the text
//! and on character boundaries, and the bytes survive the round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use monitorc_grammar::FileId;
use monitorc_runtime::text;

fuzz_target!(|data: &[u8]| {
    let (decoded, _) = text::decode(data.to_vec());
    assert_eq!(&*text::encode(&decoded), data);
    let (tree, diags) = monitorc_grammar::parse(FileId(0), &decoded);
    let ok = |s: monitorc_grammar::Span| {
        let r = s.range();
        r.start <= r.end
            && r.end <= decoded.len()
            && decoded.is_char_boundary(r.start)
            && decoded.is_char_boundary(r.end)
    };
    for b in &tree.blocks {
        assert!(ok(b.header) && ok(b.span));
        for a in &b.attrs {
            assert!(ok(a.key) && ok(a.value));
        }
    }
    for p in &tree.params {
        assert!(ok(p.key) && ok(p.span));
    }
    for d in &diags {
        if let Some(s) = d.primary {
            assert!(ok(s));
        }
    }
});
