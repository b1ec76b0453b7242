//! Documents come from tenants and from pages on the internet: any text, Markdown or HTML is
//! extracted and cut into passages without panicking, and no passage outgrows its limit.

use proptest::prelude::*;
use sb_kb::{ChunkSizes, Format, chunk, extract};

/// Text with the markup the extractors react to mixed in.
fn markup() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        "\\PC{0,40}",
        Just("\n\n".to_owned()),
        Just("# ".to_owned()),
        Just("## Heading\n".to_owned()),
        Just("<p>".to_owned()),
        Just("</p>".to_owned()),
        Just("<h2>".to_owned()),
        Just("<script>x()</script>".to_owned()),
        Just("<nav>".to_owned()),
        Just("```\n".to_owned()),
        Just("- item\n".to_owned()),
        Just("| a | b |\n|---|---|\n".to_owned()),
        Just("<".to_owned()),
        Just("&amp;".to_owned()),
        Just("我的订单在哪里。".to_owned()),
        "[a-z]{200,600}",
    ];
    prop::collection::vec(pieces, 0..30).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_document_is_extracted_and_chunked_within_limits(
        content in markup(),
        format in prop_oneof![Just(Format::Text), Just(Format::Markdown), Just(Format::Html)],
    ) {
        let extracted = extract(&content, format);
        let sizes = ChunkSizes::default();
        for passage in chunk(&extracted.sections, sizes) {
            prop_assert!(!passage.text.trim().is_empty(), "no empty passages");
            prop_assert!(
                passage.text.chars().count() <= sizes.max,
                "{} characters",
                passage.text.chars().count()
            );
        }
    }
}
