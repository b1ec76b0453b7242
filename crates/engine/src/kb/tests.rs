//! Who may do what with the knowledge base: admins change documents; every member reads them;
//! another tenant's do not exist.

use sb_domain::{DocumentId, PageRequest};

use super::DocumentDraft;
use crate::testing::{assert_forbidden, assert_not_found, assert_permitted, world};

fn document() -> DocumentDraft {
    DocumentDraft {
        title: Some("Returns".into()),
        content: Some("Returns are free within 30 days.".into()),
        ..DocumentDraft::default()
    }
}

#[tokio::test]
async fn only_admins_change_documents() {
    let w = world().await;
    let knowledge = &w.services.knowledge;
    assert_forbidden(knowledge.create_document(&w.operator, document()).await);
    let id = knowledge.create_document(&w.admin, document()).await.unwrap().id;
    assert_forbidden(knowledge.update_document(&w.operator, &id, document()).await);
    assert_forbidden(knowledge.refresh_document(&w.operator, &id).await);
    assert_forbidden(knowledge.delete_document(&w.operator, &id).await);
    assert_permitted(knowledge.get_document(&w.operator, &id).await);
    assert_permitted(knowledge.list_documents(&w.operator, &PageRequest::first(10)).await);
    assert_permitted(knowledge.delete_document(&w.admin, &id).await);
}

#[tokio::test]
async fn another_tenants_documents_do_not_exist() {
    let w = world().await;
    let knowledge = &w.services.knowledge;
    let id = knowledge.create_document(&w.admin, document()).await.unwrap().id;
    assert_not_found(knowledge.get_document(&w.stranger, &id).await);
    assert_not_found(knowledge.update_document(&w.stranger, &id, document()).await);
    assert_not_found(knowledge.delete_document(&w.stranger, &id).await);
    assert_not_found(knowledge.delete_document(&w.admin, &DocumentId::new()).await);
}
