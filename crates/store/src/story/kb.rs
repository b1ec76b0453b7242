use sb_domain::{
    ChunkId, DocumentId, KbChunk, KbDocument, KbStatus, TenantId, Timestamp, WidgetId,
};

use super::{assert_not_found, now};
use crate::{PageRequest, ProcessedDocument, Store};

fn document(tenant: &TenantId, title: &str) -> KbDocument {
    KbDocument {
        id: DocumentId::new(),
        tenant_id: tenant.clone(),
        title: title.into(),
        url: None,
        format: "markdown".into(),
        widget_ids: Vec::new(),
        status: KbStatus::Processing,
        error: None,
        language: None,
        chunks: 0,
        characters: 0,
        embedding_model: None,
        created_at: now(),
        updated_at: now(),
    }
}

fn chunk(document: &KbDocument, ord: u32, text: &str, embedding: Option<Vec<f32>>) -> KbChunk {
    KbChunk {
        id: ChunkId::new(),
        document_id: document.id.clone(),
        tenant_id: document.tenant_id.clone(),
        ord,
        headings: vec!["Returns".into()],
        text: text.into(),
        language: "en".into(),
        embedding,
    }
}

fn later(t: Timestamp) -> Timestamp {
    t + jiff::SignedDuration::from_millis(1)
}

pub(super) async fn kb(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let start = store.last_change().await.unwrap();
    let mut doc = document(tenant, "Return policy");
    doc.widget_ids = vec![WidgetId::new()];
    store.create_document(&doc, "# Returns\n30 days.").await.unwrap();
    assert_eq!(store.get_document(tenant, &doc.id).await.unwrap(), doc);
    assert_eq!(store.get_document_content(tenant, &doc.id).await.unwrap(), "# Returns\n30 days.");
    assert_not_found(store.get_document(other, &doc.id).await);
    assert_not_found(store.get_document_content(other, &doc.id).await);
    assert!(
        store.processing_documents().await.unwrap().contains(&(tenant.clone(), doc.id.clone()))
    );

    // Processing finishes only for the version it read.
    let processed = ProcessedDocument {
        chunks: vec![
            chunk(&doc, 0, "Returns within 30 days.", Some(vec![0.5, -0.25])),
            chunk(&doc, 1, "Keep the receipt.", None),
        ],
        language: Some("en".into()),
        characters: 40,
        embedding_model: Some("embed-1".into()),
        content: None,
        format: None,
        title: None,
        at: later(doc.updated_at),
    };
    assert!(
        !store.finish_document(tenant, &doc.id, later(doc.updated_at), &processed).await.unwrap()
    );
    assert!(!store.finish_document(other, &doc.id, doc.updated_at, &processed).await.unwrap());
    assert!(store.finish_document(tenant, &doc.id, doc.updated_at, &processed).await.unwrap());
    let stored = store.get_document(tenant, &doc.id).await.unwrap();
    assert_eq!(stored.status, KbStatus::Processing, "ready only once indexed");
    assert!(!store.mark_document_ready(tenant, &doc.id, doc.updated_at).await.unwrap());
    assert!(store.mark_document_ready(tenant, &doc.id, processed.at).await.unwrap());
    let ready = store.get_document(tenant, &doc.id).await.unwrap();
    assert_eq!((ready.status, ready.chunks, ready.characters), (KbStatus::Ready, 2, 40));
    assert_eq!(ready.language.as_deref(), Some("en"));
    assert_eq!(ready.updated_at, processed.at);
    let (indexed, chunks) = store.document_for_index(&doc.id).await.unwrap().unwrap();
    assert_eq!(indexed, ready);
    assert_eq!(chunks, processed.chunks);
    assert!(store.document_for_index(&DocumentId::new()).await.unwrap().is_none());

    let embedded = store.embedded_chunks(tenant, "embed-1").await.unwrap();
    assert_eq!(embedded.len(), 1);
    assert_eq!(
        (embedded[0].vector.clone(), embedded[0].widget_ids.clone()),
        (vec![0.5, -0.25], doc.widget_ids.clone())
    );
    assert!(store.embedded_chunks(tenant, "embed-2").await.unwrap().is_empty());
    assert!(store.embedded_chunks(other, "embed-1").await.unwrap().is_empty());
    let ids: Vec<ChunkId> = chunks.iter().map(|c| c.id.clone()).collect();
    let passages = store.passages(tenant, &ids).await.unwrap();
    assert_eq!(passages.len(), 2);
    assert_eq!(
        (passages[1].chunk.text.as_str(), passages[1].title.as_str()),
        ("Keep the receipt.", "Return policy")
    );
    assert!(store.passages(other, &ids).await.unwrap().is_empty());

    // An update with new content sets it back to processing, keeping the old passages meanwhile.
    let mut changed = ready.clone();
    changed.title = "Returns".into();
    changed.status = KbStatus::Processing;
    changed.updated_at = later(ready.updated_at);
    store.update_document(&changed, Some("New text")).await.unwrap();
    assert_eq!(store.get_document_content(tenant, &doc.id).await.unwrap(), "New text");
    assert_eq!(store.document_for_index(&doc.id).await.unwrap().unwrap().1.len(), 2);
    assert!(!store.fail_document(tenant, &doc.id, ready.updated_at, "stale").await.unwrap());
    assert!(
        store
            .fail_document(tenant, &doc.id, changed.updated_at, "fetch_failed: 404")
            .await
            .unwrap()
    );
    let failed = store.get_document(tenant, &doc.id).await.unwrap();
    assert_eq!(
        (failed.status, failed.error.as_deref(), failed.chunks),
        (KbStatus::Failed, Some("fetch_failed: 404"), 0)
    );
    assert!(store.document_for_index(&doc.id).await.unwrap().unwrap().1.is_empty());
    let mut foreign = changed.clone();
    foreign.tenant_id = other.clone();
    assert_not_found(store.update_document(&foreign, None).await);

    let second = document(tenant, "Shipping");
    store.create_document(&second, "Two days.").await.unwrap();
    let page = store.list_documents(tenant, &PageRequest::first(1)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let rest = store
        .list_documents(tenant, &PageRequest { after: page.next.clone(), limit: 10 })
        .await
        .unwrap();
    assert_eq!(page.items.len() + rest.items.len(), 2);
    assert!(store.list_documents(other, &PageRequest::first(10)).await.unwrap().items.is_empty());

    let processed =
        ProcessedDocument { chunks: vec![chunk(&second, 0, "Two days.", None)], ..processed };
    let processed = ProcessedDocument {
        content: Some("Fetched".into()),
        format: Some("html".into()),
        title: Some("Page title".into()),
        ..processed
    };
    assert!(
        store.finish_document(tenant, &second.id, second.updated_at, &processed).await.unwrap()
    );
    // Passages stored, not yet marked ready: an index rebuilt now must include them.
    let indexed_ids = store.indexed_documents(None, 10).await.unwrap();
    assert!(indexed_ids.contains(&second.id) && !indexed_ids.contains(&doc.id));
    let after = store.indexed_documents(Some(&second.id), 10).await.unwrap();
    assert!(!after.contains(&second.id));
    assert!(store.mark_document_ready(tenant, &second.id, processed.at).await.unwrap());
    let finished = store.get_document(tenant, &second.id).await.unwrap();
    assert_eq!((finished.title.as_str(), finished.format.as_str()), ("Page title", "html"));
    assert_eq!(store.get_document_content(tenant, &second.id).await.unwrap(), "Fetched");

    assert_not_found(store.delete_document(other, &doc.id).await);
    store.delete_document(tenant, &doc.id).await.unwrap();
    assert_not_found(store.get_document(tenant, &doc.id).await);
    assert!(store.document_for_index(&doc.id).await.unwrap().is_none());

    // Every write left a change, in order.
    let changes = store.changes_since(start, 100).await.unwrap();
    let touched: Vec<&DocumentId> = changes.iter().map(|c| &c.document_id).collect();
    let (first, then) = (&doc.id, &second.id);
    assert_eq!(touched, [first, first, first, first, then, then, first]);
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(store.last_change().await.unwrap(), changes.last().unwrap().seq);
    assert_eq!(store.changes_since(start, 2).await.unwrap().len(), 2);
}
