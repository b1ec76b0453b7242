use async_trait::async_trait;
use sb_domain::{
    Connection, ConnectionId, Endpoint, EndpointId, EndpointRequest, TenantId, TestSummary,
};
use sb_store::{
    ConnectionStore, Page, PageRequest, SealedKind, SealedSecretStore, SealedValue, StoreResult,
    StoredConnection,
};

use crate::json::to_json;
use crate::{Db, Query, Row, SqlStore, each, expect_found, q};

/// A connection's columns, in the order `create_connection` binds them.
macro_rules! connection_columns {
    () => {
        "id, tenant_id, name, base_url, auth_json, secrets_sealed, headers_json, timeout_ms, kind, \
         identity_header, created_at, updated_at, last_test_json"
    };
}

/// An endpoint's columns, for [`endpoint_from_row`].
macro_rules! endpoint_columns {
    () => {
        "id, tenant_id, connection_id, name, description, method, path, query_json, headers_json, \
         body_json, variables_json, response_mapping_json, timeout_ms, ai_tool, idempotent, \
         requires_verified_visitor, cache_ttl_s, approval, approval_summary, expected_statuses_json, \
         created_at, updated_at, last_test_json, tool_json"
    };
}

fn connection_from_row(row: &Row) -> StoreResult<Connection> {
    Ok(Connection {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        name: row.text("name")?,
        base_url: row.text("base_url")?,
        auth: row.json("auth_json")?,
        headers: row.json("headers_json")?,
        timeout_ms: u32::try_from(row.int("timeout_ms")?).unwrap_or(sb_domain::MAX_TIMEOUT_MS),
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
        last_test: row.opt_json("last_test_json")?,
        kind: row.parse("kind")?,
        identity_header: row.opt_text("identity_header")?,
    })
}

/// Binds the connection's settings (name to identity header), in the order INSERT and UPDATE
/// name them.
fn bind_connection_fields(query: Query, c: &Connection, sealed: Option<&str>) -> Query {
    query
        .text(&c.name)
        .text(&c.base_url)
        .json(to_json(&c.auth))
        .opt_text(sealed)
        .json(to_json(&c.headers))
        .int(i64::from(c.timeout_ms))
        .text(c.kind.as_str())
        .opt_text(c.identity_header.as_deref())
}

fn endpoint_from_row(row: &Row) -> StoreResult<Endpoint> {
    Ok(Endpoint {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        connection_id: row.parse("connection_id")?,
        name: row.text("name")?,
        description: row.text("description")?,
        request: EndpointRequest {
            method: row.parse("method")?,
            path: row.text("path")?,
            query: row.json("query_json")?,
            headers: row.json("headers_json")?,
            body: row.opt_json("body_json")?,
            variables: row.json("variables_json")?,
        },
        response_mapping: row.json("response_mapping_json")?,
        timeout_ms: row.opt_int("timeout_ms")?.and_then(|ms| u32::try_from(ms).ok()),
        ai_tool: row.boolean("ai_tool")?,
        idempotent: row.boolean("idempotent")?,
        requires_verified_visitor: row.boolean("requires_verified_visitor")?,
        cache_ttl_s: row.opt_int("cache_ttl_s")?.and_then(|s| u32::try_from(s).ok()),
        approval: row.parse("approval")?,
        approval_summary: row.text("approval_summary")?,
        expected_statuses: row.json("expected_statuses_json")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
        last_test: row.opt_json("last_test_json")?,
        tool: row.opt_json("tool_json")?,
    })
}

/// Binds the endpoint's mutable fields as $1..$19, in the order the INSERT and UPDATE name them.
fn bind_endpoint_fields(query: Query, e: &Endpoint) -> Query {
    query
        .text(&e.name)
        .text(&e.description)
        .text(e.request.method.as_str())
        .text(&e.request.path)
        .json(to_json(&e.request.query))
        .json(to_json(&e.request.headers))
        .opt_json(e.request.body.as_ref().map(to_json))
        .json(to_json(&e.request.variables))
        .json(to_json(&e.response_mapping))
        .opt_int(e.timeout_ms.map(i64::from))
        .boolean(e.ai_tool)
        .boolean(e.idempotent)
        .boolean(e.requires_verified_visitor)
        .opt_int(e.cache_ttl_s.map(i64::from))
        .text(e.approval.as_str())
        .text(&e.approval_summary)
        .json(to_json(&e.expected_statuses))
        .ts(e.updated_at)
        .opt_json(e.tool.as_ref().map(to_json))
}

/// The INSERT of one endpoint, `tail` appended (an `ON CONFLICT` clause, or nothing).
macro_rules! insert_endpoint_sql {
    ($tail:literal) => {
        concat!(
            "INSERT INTO endpoints (name, description, method, path, query_json, headers_json, body_json, \
             variables_json, response_mapping_json, timeout_ms, ai_tool, idempotent, \
             requires_verified_visitor, cache_ttl_s, approval, approval_summary, \
             expected_statuses_json, updated_at, tool_json, id, tenant_id, connection_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23)",
            $tail
        )
    };
}

/// One endpoint for `sql`, an `insert_endpoint_sql!`.
fn insert_endpoint(sql: &'static str, e: &Endpoint) -> Query {
    bind_endpoint_fields(q(sql), e)
        .text(e.id.as_str())
        .text(e.tenant_id.as_str())
        .text(e.connection_id.as_str())
        .ts(e.created_at)
}

/// Stores the last test of row `$3` of tenant `$2` of `$table`, a connection or an endpoint.
macro_rules! record_test_sql {
    ($table:literal) => {
        concat!("UPDATE ", $table, " SET last_test_json = $1 WHERE tenant_id = $2 AND id = $3")
    };
}

impl<D: Db> SqlStore<D> {
    /// Stores the last test of a connection or endpoint; `sql` is a `record_test_sql!`.
    async fn record_test(
        &self,
        sql: &'static str,
        tenant: &TenantId,
        id: &str,
        summary: &TestSummary,
    ) -> StoreResult<()> {
        let query = q(sql).json(to_json(summary)).text(tenant.as_str()).text(id);
        expect_found(self.db.execute(query).await?)
    }
}

#[async_trait]
impl<D: Db> ConnectionStore for SqlStore<D> {
    async fn create_connection(&self, c: &Connection, sealed: Option<&str>) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO connections (",
            connection_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        let query = q(sql).text(c.id.as_str()).text(c.tenant_id.as_str());
        let query = bind_connection_fields(query, c, sealed)
            .ts(c.created_at)
            .ts(c.updated_at)
            .opt_json(c.last_test.as_ref().map(to_json));
        self.config_write(c.tenant_id.as_str(), query).await.map(drop)
    }

    async fn get_connection(
        &self,
        tenant: &TenantId,
        id: &ConnectionId,
    ) -> StoreResult<StoredConnection> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE tenant_id = $1 AND id = $2"
        );
        let row = self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?;
        Ok(StoredConnection {
            connection: connection_from_row(&row)?,
            sealed_secrets: row.opt_text("secrets_sealed")?,
        })
    }

    async fn list_connections(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<Connection>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let query = q(sql).text(tenant.as_str());
        self.fetch_page(query, page, each(connection_from_row), |c| c.id.to_string()).await
    }

    async fn update_connection(&self, c: &Connection, sealed: Option<&str>) -> StoreResult<()> {
        let sql = "UPDATE connections SET name = $1, base_url = $2, auth_json = $3, secrets_sealed = $4, \
                   headers_json = $5, timeout_ms = $6, kind = $7, identity_header = $8, updated_at = $9 \
                   WHERE tenant_id = $10 AND id = $11";
        let query = bind_connection_fields(q(sql), c, sealed)
            .ts(c.updated_at)
            .text(c.tenant_id.as_str())
            .text(c.id.as_str());
        expect_found(self.config_write(c.tenant_id.as_str(), query).await?)
    }

    async fn mcp_connections(&self, limit: u32) -> StoreResult<Vec<(TenantId, ConnectionId)>> {
        let query = q("SELECT tenant_id, id FROM connections WHERE kind = 'mcp' \
                       ORDER BY tenant_id, id LIMIT $1")
        .int(i64::from(limit));
        let rows = self.db.fetch_all(query).await?;
        rows.iter().map(|row| Ok((row.parse("tenant_id")?, row.parse("id")?))).collect()
    }

    async fn delete_connection(&self, tenant: &TenantId, id: &ConnectionId) -> StoreResult<()> {
        self.delete_config(delete_owned_sql!("connections"), tenant.as_str(), id.as_str()).await
    }

    async fn record_connection_test(
        &self,
        tenant: &TenantId,
        id: &ConnectionId,
        summary: &TestSummary,
    ) -> StoreResult<()> {
        let sql = record_test_sql!("connections");
        self.record_test(sql, tenant, id.as_str(), summary).await
    }

    async fn create_endpoint(&self, e: &Endpoint) -> StoreResult<()> {
        let query = insert_endpoint(insert_endpoint_sql!(""), e);
        self.config_write(e.tenant_id.as_str(), query).await.map(drop)
    }

    async fn create_endpoints(&self, endpoints: &[Endpoint]) -> StoreResult<Vec<bool>> {
        let mut tx = self.db.begin().await?;
        let mut created = Vec::with_capacity(endpoints.len());
        for e in endpoints {
            let sql = insert_endpoint_sql!(" ON CONFLICT (tenant_id, name) DO NOTHING");
            let query = insert_endpoint(sql, e);
            created.push(tx.execute(query).await? == 1);
        }
        if let Some(first) = endpoints.first() {
            tx.execute(crate::bump_config_revision(first.tenant_id.as_str())).await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    async fn endpoint_names(&self, tenant: &TenantId) -> StoreResult<Vec<String>> {
        let rows = self
            .db
            .fetch_all(q("SELECT name FROM endpoints WHERE tenant_id = $1").text(tenant.as_str()))
            .await?;
        rows.iter().map(|row| row.text("name")).collect()
    }

    async fn get_endpoint(&self, tenant: &TenantId, id: &EndpointId) -> StoreResult<Endpoint> {
        let sql = concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM endpoints WHERE tenant_id = $1 AND id = $2"
        );
        endpoint_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn list_endpoints(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        page: &PageRequest,
    ) -> StoreResult<Page<Endpoint>> {
        let sql = concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM endpoints WHERE tenant_id = $1 AND connection_id = $2 AND id > $3 \
             ORDER BY id LIMIT $4"
        );
        let query = q(sql).text(tenant.as_str()).text(connection.as_str());
        self.fetch_page(query, page, each(endpoint_from_row), |e| e.id.to_string()).await
    }

    async fn connection_endpoints(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
    ) -> StoreResult<Vec<Endpoint>> {
        let sql = concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM endpoints WHERE tenant_id = $1 AND connection_id = $2 ORDER BY id"
        );
        let rows =
            self.db.fetch_all(q(sql).text(tenant.as_str()).text(connection.as_str())).await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    async fn list_ai_tool_endpoints(&self, tenant: &TenantId) -> StoreResult<Vec<Endpoint>> {
        let sql = concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM endpoints WHERE tenant_id = $1 AND ai_tool = $2 ORDER BY name"
        );
        let rows = self.db.fetch_all(q(sql).text(tenant.as_str()).boolean(true)).await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    async fn update_endpoint(&self, e: &Endpoint) -> StoreResult<()> {
        let sql = "UPDATE endpoints SET name = $1, description = $2, method = $3, path = $4, query_json = $5, \
                   headers_json = $6, body_json = $7, variables_json = $8, response_mapping_json = $9, \
                   timeout_ms = $10, ai_tool = $11, idempotent = $12, requires_verified_visitor = $13, \
                   cache_ttl_s = $14, approval = $15, approval_summary = $16, \
                   expected_statuses_json = $17, updated_at = $18, tool_json = $19 \
                   WHERE tenant_id = $20 AND id = $21";
        let query = bind_endpoint_fields(q(sql), e).text(e.tenant_id.as_str()).text(e.id.as_str());
        expect_found(self.config_write(e.tenant_id.as_str(), query).await?)
    }

    async fn delete_endpoint(&self, tenant: &TenantId, id: &EndpointId) -> StoreResult<()> {
        self.delete_config(delete_owned_sql!("endpoints"), tenant.as_str(), id.as_str()).await
    }

    async fn record_endpoint_test(
        &self,
        tenant: &TenantId,
        id: &EndpointId,
        summary: &TestSummary,
    ) -> StoreResult<()> {
        let sql = record_test_sql!("endpoints");
        self.record_test(sql, tenant, id.as_str(), summary).await
    }
}

/// The statements that list and replace one kind of sealed value, from where it lives: table,
/// column, and the column that identifies a row.
struct SealedSql {
    list: &'static str,
    replace: &'static str,
}

macro_rules! sealed_sql {
    ($table:literal, $column:literal, $id:literal) => {
        SealedSql {
            list: concat!(
                "SELECT tenant_id, ",
                $id,
                " AS row_id, ",
                $column,
                " AS sealed FROM ",
                $table,
                " WHERE ",
                $column,
                " IS NOT NULL ORDER BY ",
                $id
            ),
            replace: concat!(
                "UPDATE ",
                $table,
                " SET ",
                $column,
                " = $1 WHERE tenant_id = $2 AND ",
                $id,
                " = $3 AND ",
                $column,
                " = $4"
            ),
        }
    };
}

fn sealed_sql(kind: SealedKind) -> SealedSql {
    match kind {
        SealedKind::ConnectionSecrets => sealed_sql!("connections", "secrets_sealed", "id"),
        SealedKind::WidgetIdentitySecret => {
            sealed_sql!("widgets", "identity_secret_sealed", "id")
        }
        SealedKind::AiApiKey => sealed_sql!("ai_settings", "api_key_sealed", "tenant_id"),
        SealedKind::WebhookSecret => sealed_sql!("webhooks", "secret_sealed", "id"),
        SealedKind::WebhookPreviousSecret => {
            sealed_sql!("webhooks", "previous_secret_sealed", "id")
        }
    }
}

const SEALED_KINDS: [SealedKind; 5] = [
    SealedKind::ConnectionSecrets,
    SealedKind::WidgetIdentitySecret,
    SealedKind::AiApiKey,
    SealedKind::WebhookSecret,
    SealedKind::WebhookPreviousSecret,
];

#[async_trait]
impl<D: Db> SealedSecretStore for SqlStore<D> {
    async fn list_sealed(&self) -> StoreResult<Vec<SealedValue>> {
        let mut values = Vec::new();
        for kind in SEALED_KINDS {
            for row in self.db.fetch_all(q(sealed_sql(kind).list)).await? {
                values.push(SealedValue {
                    kind,
                    tenant_id: row.parse("tenant_id")?,
                    id: row.text("row_id")?,
                    sealed: row.text("sealed")?,
                });
            }
        }
        Ok(values)
    }

    async fn replace_sealed(&self, value: &SealedValue, resealed: &str) -> StoreResult<bool> {
        let query = q(sealed_sql(value.kind).replace)
            .text(resealed)
            .text(value.tenant_id.as_str())
            .text(&value.id)
            .text(&value.sealed);
        Ok(self.db.execute(query).await? == 1)
    }
}
