//! Who may do what with connections: admins configure them; operators see none of it; another
//! tenant's connection does not exist.

use std::collections::BTreeMap;

use sb_domain::{ConnectionId, EndpointId, PageRequest};
use serde_json::json;

use super::{AuthInput, ConnectionDraft, EndpointDraft, EndpointTest, OpenApiImport};
use crate::testing::{assert_forbidden, assert_not_found, assert_permitted, world};

fn draft() -> ConnectionDraft {
    ConnectionDraft {
        name: Some("Shop".into()),
        base_url: Some("https://shop.example.test/api".into()),
        auth: Some(AuthInput::None),
        ..ConnectionDraft::default()
    }
}

fn endpoint() -> EndpointDraft {
    EndpointDraft {
        name: Some("order".into()),
        method: Some("GET".into()),
        path: Some("/orders/{orderId}".into()),
        ..EndpointDraft::default()
    }
}

fn no_variables() -> EndpointTest {
    EndpointTest { variables: Default::default(), confirm: false }
}

#[tokio::test]
async fn only_admins_see_and_change_connections() {
    let w = world().await;
    let connections = &w.services.connections;
    let page = PageRequest::first(10);
    assert_forbidden(connections.create_connection(&w.operator, draft()).await);
    let created = connections.create_connection(&w.admin, draft()).await.unwrap();
    let id = &created.connection.id;
    assert_forbidden(connections.get_connection(&w.operator, id).await);
    assert_forbidden(connections.list_connections(&w.operator, &page).await);
    assert_forbidden(connections.update_connection(&w.operator, id, draft()).await);
    assert_forbidden(connections.delete_connection(&w.operator, id).await);
    assert_forbidden(connections.test_connection(&w.operator, id, &Default::default()).await);
    assert_forbidden(connections.connection_stats(&w.operator, id).await);
    assert_permitted(connections.get_connection(&w.admin, id).await);
    assert_permitted(connections.list_connections(&w.admin, &page).await);
    assert_permitted(connections.connection_stats(&w.admin, id).await);
    assert_permitted(connections.delete_connection(&w.admin, id).await);
}

#[tokio::test]
async fn only_admins_see_and_change_endpoints() {
    let w = world().await;
    let connections = &w.services.connections;
    let connection = connections.create_connection(&w.admin, draft()).await.unwrap();
    let connection = &connection.connection.id;
    assert_forbidden(connections.create_endpoint(&w.operator, connection, endpoint()).await);
    let created = connections.create_endpoint(&w.admin, connection, endpoint()).await.unwrap();
    let id = &created.endpoint.id;
    let page = PageRequest::first(10);
    assert_forbidden(connections.get_endpoint(&w.operator, id).await);
    assert_forbidden(connections.list_endpoints(&w.operator, connection, &page).await);
    assert_forbidden(connections.update_endpoint(&w.operator, id, endpoint()).await);
    assert_forbidden(connections.delete_endpoint(&w.operator, id).await);
    assert_forbidden(connections.test_endpoint(&w.operator, id, no_variables()).await);
    assert_forbidden(connections.endpoint_stats(&w.operator, id).await);
    assert_permitted(connections.get_endpoint(&w.admin, id).await);
    assert_permitted(connections.endpoint_stats(&w.admin, id).await);
    assert_permitted(connections.delete_endpoint(&w.admin, id).await);
}

#[tokio::test]
async fn only_admins_import_and_preview() {
    let w = world().await;
    let connections = &w.services.connections;
    let import = || OpenApiImport { spec: Some(json!({})), ..OpenApiImport::default() };
    let id = ConnectionId::new();
    assert_forbidden(connections.import_openapi(&w.operator, &id, import()).await);
    assert_not_found(connections.import_openapi(&w.admin, &id, import()).await);
    let mapping = BTreeMap::from([("eta".to_owned(), "data.eta".to_owned())]);
    let sample = json!({"data": {"eta": "Friday"}});
    assert_forbidden(connections.preview_mapping(&w.operator, &mapping, &sample));
    assert_permitted(connections.preview_mapping(&w.admin, &mapping, &sample));
}

#[tokio::test]
async fn another_tenants_connections_do_not_exist() {
    let w = world().await;
    let connections = &w.services.connections;
    let created = connections.create_connection(&w.admin, draft()).await.unwrap();
    let id = &created.connection.id;
    let endpoint = connections.create_endpoint(&w.admin, id, endpoint()).await.unwrap();
    let endpoint = &endpoint.endpoint.id;
    assert_not_found(connections.get_connection(&w.stranger, id).await);
    assert_not_found(connections.update_connection(&w.stranger, id, draft()).await);
    assert_not_found(connections.delete_connection(&w.stranger, id).await);
    assert_not_found(connections.test_connection(&w.stranger, id, &Default::default()).await);
    assert_not_found(connections.create_endpoint(&w.stranger, id, self::endpoint()).await);
    assert_not_found(connections.get_endpoint(&w.stranger, endpoint).await);
    assert_not_found(connections.test_endpoint(&w.stranger, endpoint, no_variables()).await);
    assert_not_found(connections.test_endpoint(&w.admin, &EndpointId::new(), no_variables()).await);
    let theirs = connections.list_connections(&w.stranger, &PageRequest::first(10)).await;
    assert!(theirs.unwrap().items.is_empty());
}
