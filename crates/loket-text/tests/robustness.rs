//! No input may panic the engine.
use loket_text::{Input, engine, redact, search_tokens};
use proptest::prelude::*;

fn check(text: &str) {
    let a = engine().analyse(&Input::text(text));
    for p in &a.pii {
        assert!(p.start <= p.end && p.end <= text.len());
        assert!(text.is_char_boundary(p.start) && text.is_char_boundary(p.end));
    }
    let _ = serde_json::to_string(&a).unwrap();
    let _ = redact(text);
    let _ = search_tokens(text);
}

#[test]
fn edge_inputs() {
    check("");
    check(" ");
    check("😀😡🙏🏽👍🏿🇳🇱");
    check("مرحبا، أنا أسكن في Apeldoorn ولدي ديون كثيرة ولا أستطيع دفع الفواتير.");
    check("\u{202E}txet desrever\u{202C} ‏עברית‏");
    check("0612345678 +31 NL91ABNA0417164300 111222333 a@b.nl 12-ABC-3");
    check(&"Losse tegel in Utrecht. 😀 ".repeat(40_000)); // ~1 MB
    check(&"a".repeat(1 << 20));
    check("\0\u{1}\u{7f}\u{fffd}");
    let a = engine().analyse(&Input {
        text: "x",
        lat: Some(f64::NAN),
        lon: Some(f64::INFINITY),
        history: &["GM9999".into(), "rubbish".into()],
    });
    assert!(a.gemeente.is_none());
}

#[test]
fn invalid_utf8_is_handled_at_the_boundary() {
    // The engine takes &str; callers convert lossily, which must then be safe.
    let bytes = [0x66, 0x6f, 0xff, 0xfe, 0x20, 0xe2, 0x82];
    check(&String::from_utf8_lossy(&bytes));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn arbitrary_strings(s in any::<String>()) {
        check(&s);
    }

    #[test]
    fn digit_and_punctuation_soup(s in "[0-9 .+()@a-zA-Z-]{0,80}") {
        check(&s);
    }
}
