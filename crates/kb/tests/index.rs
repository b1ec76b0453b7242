//! The index on its own: isolation, widget limits, snippets, persistence.

use sb_kb::{IndexedChunk, KbIndex, Lang};

fn chunk(id: &str, document: &str, tenant: &str, widgets: &[&str], text: &str) -> IndexedChunk {
    IndexedChunk {
        chunk_id: id.into(),
        document_id: document.into(),
        tenant_id: tenant.into(),
        widgets: widgets.iter().map(|w| (*w).to_owned()).collect(),
        title: format!("Title of {document}"),
        text: text.into(),
        lang: Lang::detect(text, Lang::English),
    }
}

fn ids(hits: &[sb_kb::Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.chunk_id.as_str()).collect()
}

#[test]
fn searches_stay_in_their_tenant_and_widget() {
    let (index, seq) = KbIndex::open(None).unwrap();
    assert_eq!(seq, None);
    let returns = "You can return any item within 30 days for a full refund.";
    index.put_document("d1", &[chunk("a", "d1", "t1", &[], returns)]).unwrap();
    index.put_document("d2", &[chunk("b", "d2", "t2", &[], returns)]).unwrap();
    index
        .put_document(
            "d3",
            &[chunk("c", "d3", "t1", &["w2"], "Returns for the outlet shop take 60 days.")],
        )
        .unwrap();
    index.commit(7).unwrap();

    assert_eq!(
        ids(&index.search("t1", None, "how do I return an item?", None, 10).unwrap()),
        ["a", "c"]
    );
    assert_eq!(ids(&index.search("t2", None, "return", None, 10).unwrap()), ["b"]);
    assert_eq!(ids(&index.search("t1", Some("w1"), "return", None, 10).unwrap()), ["a"]);
    assert_eq!(ids(&index.search("t1", Some("w2"), "return outlet", None, 10).unwrap())[0], "c");
    assert!(index.search("t3", None, "return", None, 10).unwrap().is_empty());
    assert!(index.search("t1", None, "?!", None, 10).unwrap().is_empty(), "nothing to look for");
}

#[test]
fn hits_carry_a_highlighted_snippet_and_how_much_of_the_query_they_cover() {
    let (index, _) = KbIndex::open(None).unwrap();
    let text = "Shipping within Germany takes two days. We ship <everywhere> in the EU.";
    index.put_document("d1", &[chunk("a", "d1", "t1", &[], text)]).unwrap();
    index.commit(1).unwrap();
    let hits = index.search("t1", None, "shipping to Austria", None, 5).unwrap();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert!(hit.snippet_html.contains("<b>Shipping</b>"), "{}", hit.snippet_html);
    assert!(hit.snippet_html.contains("&lt;everywhere&gt;"), "escaped: {}", hit.snippet_html);
    assert!((hit.coverage - 0.5).abs() < 0.01, "shipping yes, austria no: {}", hit.coverage);
    assert_eq!(hit.title, "Title of d1");
}

#[test]
fn replacing_and_removing_a_document_and_reopening_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (index, seq) = KbIndex::open(Some(dir.path())).unwrap();
        assert_eq!(seq, None);
        index
            .put_document("d1", &[chunk("a", "d1", "t1", &[], "Old opening hours: 9 to 5.")])
            .unwrap();
        index
            .put_document("d2", &[chunk("b", "d2", "t1", &[], "Gift cards never expire.")])
            .unwrap();
        index.commit(3).unwrap();
        index
            .put_document("d1", &[chunk("c", "d1", "t1", &[], "New opening hours: 8 to 8.")])
            .unwrap();
        index.put_document("d2", &[]).unwrap();
        index.commit(5).unwrap();
    }
    let (index, seq) = KbIndex::open(Some(dir.path())).unwrap();
    assert_eq!(seq, Some(5), "the index knows the last change it holds");
    assert_eq!(ids(&index.search("t1", None, "opening hours", None, 5).unwrap()), ["c"]);
    assert!(index.search("t1", None, "gift cards", None, 5).unwrap().is_empty());
    assert_eq!(index.len(), 1);
}

#[test]
fn an_unreadable_index_directory_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("meta.json"), "not an index").unwrap();
    let (index, seq) = KbIndex::open(Some(dir.path())).unwrap();
    assert_eq!(seq, None, "to be rebuilt from the store");
    assert!(index.is_empty());
}
