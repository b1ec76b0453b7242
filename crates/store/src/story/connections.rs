use std::collections::BTreeMap;

use sb_domain::{
    ApiKeyPlacement, AuthConfig, ClientAuth, Connection, ConnectionId, Endpoint, EndpointId,
    EndpointRequest, HttpMethod, RefreshOn, TenantId, TestSummary, VariableSpec,
};

use super::{assert_conflict, assert_not_found, now};
use crate::{Constraint, PageRequest, SealedKind, Store, StoreError};

pub(super) fn connection(tenant: &TenantId, name: &str, auth: AuthConfig) -> Connection {
    Connection {
        id: ConnectionId::new(),
        tenant_id: tenant.clone(),
        name: name.into(),
        base_url: "https://api.example.com/v1".into(),
        auth,
        headers: BTreeMap::from([("X-Shop".into(), "{shop_id}".into())]),
        timeout_ms: 4000,
        created_at: now(),
        updated_at: now(),
        last_test: None,
        kind: sb_domain::ConnectionKind::Http,
        identity_header: None,
    }
}

pub(super) fn endpoint(connection: &Connection, name: &str) -> Endpoint {
    Endpoint {
        id: EndpointId::new(),
        tenant_id: connection.tenant_id.clone(),
        connection_id: connection.id.clone(),
        name: name.into(),
        description: "Looks up an order".into(),
        request: EndpointRequest {
            method: HttpMethod::Post,
            path: "/orders/{order_id}".into(),
            query: BTreeMap::from([("expand".into(), "shipping".into())]),
            headers: BTreeMap::new(),
            // Key order is kept exactly as written.
            body: Some(serde_json::json!({ "zeta": "{order_id}", "alpha": [1, 2] })),
            variables: vec![VariableSpec {
                name: "order_id".into(),
                description: "The order number".into(),
                required: true,
                pattern: Some("^[0-9]+$".into()),
            }],
        },
        response_mapping: BTreeMap::from([("delivery_eta".into(), "data.shipping.eta".into())]),
        timeout_ms: Some(2500),
        ai_tool: true,
        idempotent: false,
        approval: sb_domain::action::Approval::Operator,
        approval_summary: "Look up order {order_id}?".into(),
        expected_statuses: vec![404, 410],
        requires_verified_visitor: true,
        cache_ttl_s: None,
        created_at: now(),
        updated_at: now(),
        last_test: None,
        tool: None,
    }
}

pub(super) async fn connections_and_endpoints(
    store: &dyn Store,
    tenant: &TenantId,
    other: &TenantId,
) {
    let oauth = AuthConfig::Oauth2ClientCredentials {
        token_url: "https://auth.example.com/token".into(),
        client_id: "client-1".into(),
        scope: Some("orders:read".into()),
        audience: None,
        client_auth: ClientAuth::Post,
        refresh_on: RefreshOn {
            statuses: vec![401],
            body_path: Some("errcode".into()),
            body_values: vec!["40001".into()],
        },
    };
    let shop = connection(tenant, "Shop", oauth);
    store.create_connection(&shop, Some("sealed-1")).await.unwrap();
    let stored = store.get_connection(tenant, &shop.id).await.unwrap();
    assert_eq!(stored.connection, shop);
    assert_eq!(stored.sealed_secrets.as_deref(), Some("sealed-1"));
    assert_not_found(store.get_connection(other, &shop.id).await);
    assert_conflict(
        store.create_connection(&connection(tenant, "Shop", AuthConfig::None), None).await,
        Constraint::ConnectionName,
    );

    let crm = connection(
        tenant,
        "CRM",
        AuthConfig::ApiKey { placement: ApiKeyPlacement::Query, name: "key".into() },
    );
    store.create_connection(&crm, None).await.unwrap();
    let page = store.list_connections(tenant, &PageRequest::first(1)).await.unwrap();
    assert_eq!(page.items, vec![shop.clone()]);
    let rest =
        store.list_connections(tenant, &PageRequest { after: page.next, limit: 5 }).await.unwrap();
    assert_eq!(rest.items, vec![crm.clone()]);
    assert!(store.list_connections(other, &PageRequest::default()).await.unwrap().items.is_empty());

    let mut renamed = crm.clone();
    renamed.name = "Shop".into();
    assert_conflict(store.update_connection(&renamed, None).await, Constraint::ConnectionName);
    renamed.name = "CRM v2".into();
    renamed.auth = AuthConfig::Bearer;
    renamed.updated_at = now();
    store.update_connection(&renamed, Some("sealed-2")).await.unwrap();
    let stored = store.get_connection(tenant, &crm.id).await.unwrap();
    assert_eq!(stored.connection, renamed);
    assert_eq!(stored.sealed_secrets.as_deref(), Some("sealed-2"));
    let foreign = Connection { tenant_id: other.clone(), ..renamed.clone() };
    assert_not_found(store.update_connection(&foreign, None).await);

    let summary = TestSummary {
        ok: false,
        status: Some(503),
        latency_ms: 12,
        error_code: Some("http_error".into()),
        at: now(),
    };
    store.record_connection_test(tenant, &shop.id, &summary).await.unwrap();
    assert_eq!(
        store.get_connection(tenant, &shop.id).await.unwrap().connection.last_test,
        Some(summary.clone())
    );
    assert_not_found(store.record_connection_test(other, &shop.id, &summary).await);

    let lookup = endpoint(&shop, "get_order");
    store.create_endpoint(&lookup).await.unwrap();
    assert_eq!(store.get_endpoint(tenant, &lookup.id).await.unwrap(), lookup);
    // An MCP connection keeps what it speaks and its identity header; its endpoints, their tool.
    let mcp = Connection {
        kind: sb_domain::ConnectionKind::Mcp,
        identity_header: Some("X-Customer-Id".into()),
        ..connection(tenant, "Shop MCP", AuthConfig::Bearer)
    };
    store.create_connection(&mcp, None).await.unwrap();
    assert_eq!(store.get_connection(tenant, &mcp.id).await.unwrap().connection, mcp);
    let tool = sb_domain::McpTool {
        name: "shop.order_status".into(),
        description: "Where an order is".into(),
        input_schema: serde_json::json!({"type": "object", "properties": {"order_id": {"type": "string"}}}),
        output_schema: Some(serde_json::json!({"type": "object"})),
        read_only: true,
    };
    let calls_tool =
        Endpoint { tool: Some(tool), ai_tool: false, ..endpoint(&mcp, "shop_order_status") };
    store.create_endpoint(&calls_tool).await.unwrap();
    assert_eq!(store.get_endpoint(tenant, &calls_tool.id).await.unwrap(), calls_tool);
    let listed = store.connection_endpoints(tenant, &mcp.id).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&calls_tool));
    assert!(store.connection_endpoints(other, &mcp.id).await.unwrap().is_empty());
    let body_text =
        serde_json::to_string(&store.get_endpoint(tenant, &lookup.id).await.unwrap().request.body)
            .unwrap();
    assert!(
        body_text.find("zeta") < body_text.find("alpha"),
        "body keys keep their order: {body_text}"
    );
    assert_not_found(store.get_endpoint(other, &lookup.id).await);
    assert_conflict(
        store.create_endpoint(&endpoint(&crm, "get_order")).await,
        Constraint::EndpointName,
    );
    let stray = Endpoint { tenant_id: other.clone(), ..endpoint(&shop, "stray") };
    let result = store.create_endpoint(&stray).await;
    assert!(
        matches!(result, Err(StoreError::MissingReference)),
        "another tenant's connection: {result:?}"
    );

    let mut plain = endpoint(&shop, "list_orders");
    plain.ai_tool = false;
    plain.request.body = None;
    plain.timeout_ms = None;
    store.create_endpoint(&plain).await.unwrap();
    let listed = store.list_endpoints(tenant, &shop.id, &PageRequest::default()).await.unwrap();
    assert_eq!(listed.items, vec![lookup.clone(), plain.clone()]);
    assert!(
        store
            .list_endpoints(other, &shop.id, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(store.list_ai_tool_endpoints(tenant).await.unwrap(), vec![lookup.clone()]);
    assert!(store.list_ai_tool_endpoints(other).await.unwrap().is_empty());

    let mut changed = plain.clone();
    changed.request.method = HttpMethod::Get;
    changed.ai_tool = true;
    changed.response_mapping = BTreeMap::from([("names".into(), "items[*].name".into())]);
    changed.updated_at = now();
    store.update_endpoint(&changed).await.unwrap();
    assert_eq!(store.get_endpoint(tenant, &plain.id).await.unwrap(), changed);
    assert_not_found(
        store.update_endpoint(&Endpoint { tenant_id: other.clone(), ..changed.clone() }).await,
    );
    store.record_endpoint_test(tenant, &plain.id, &summary).await.unwrap();
    assert_eq!(store.get_endpoint(tenant, &plain.id).await.unwrap().last_test, Some(summary));

    assert_not_found(store.delete_endpoint(other, &plain.id).await);
    store.delete_endpoint(tenant, &plain.id).await.unwrap();
    assert_not_found(store.get_endpoint(tenant, &plain.id).await);
    assert_not_found(store.delete_connection(other, &shop.id).await);
    store.delete_connection(tenant, &shop.id).await.unwrap();
    assert_not_found(store.get_endpoint(tenant, &lookup.id).await);
}

pub(super) async fn sealed_secrets(store: &dyn Store, tenant: &TenantId) {
    let sealed_conn = connection(tenant, "Sealed", AuthConfig::Bearer);
    store.create_connection(&sealed_conn, Some("old-ciphertext")).await.unwrap();
    let all = store.list_sealed().await.unwrap();
    let ours = all.iter().find(|v| v.id == sealed_conn.id.as_str()).expect("listed").clone();
    assert_eq!(ours.kind, SealedKind::ConnectionSecrets);
    assert_eq!(ours.tenant_id, *tenant);
    assert_eq!(ours.sealed, "old-ciphertext");
    assert!(store.replace_sealed(&ours, "new-ciphertext").await.unwrap());
    // The value changed meanwhile: a second replace based on the old value does nothing.
    assert!(!store.replace_sealed(&ours, "stale").await.unwrap());
    let stored = store.get_connection(tenant, &sealed_conn.id).await.unwrap();
    assert_eq!(stored.sealed_secrets.as_deref(), Some("new-ciphertext"));
}

/// An OpenAPI import's batch: one transaction, taken names left out, names listed per tenant.
pub(super) async fn endpoint_batches(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let api = connection(tenant, "Imported", AuthConfig::None);
    store.create_connection(&api, None).await.unwrap();
    let existing = endpoint(&api, "list_pets");
    store.create_endpoint(&existing).await.unwrap();
    let batch = [
        endpoint(&api, "add_pet"),
        endpoint(&api, "list_pets"),
        endpoint(&api, "get_pet"),
        endpoint(&api, "add_pet"),
    ];
    assert_eq!(store.create_endpoints(&batch).await.unwrap(), [true, false, true, false]);
    assert_eq!(store.get_endpoint(tenant, &batch[0].id).await.unwrap(), batch[0]);
    assert_not_found(store.get_endpoint(tenant, &batch[1].id).await);
    let mut names = store.endpoint_names(tenant).await.unwrap();
    names.sort();
    assert!(["add_pet", "get_pet", "list_pets"].iter().all(|n| names.iter().any(|m| m == n)));
    assert_eq!(names.iter().filter(|n| *n == "add_pet").count(), 1);
    assert!(!store.endpoint_names(other).await.unwrap().contains(&"add_pet".to_owned()));
    // Another tenant's connection: nothing of the batch is stored.
    let stray = [Endpoint { tenant_id: other.clone(), ..endpoint(&api, "stray") }];
    assert!(store.create_endpoints(&stray).await.is_err());
    assert!(store.create_endpoints(&[]).await.unwrap().is_empty());
    store.delete_connection(tenant, &api.id).await.unwrap();
}
