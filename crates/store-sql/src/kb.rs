use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sb_domain::{ChunkId, DocumentId, KbChunk, KbDocument, KbStatus, TenantId, Timestamp};
use sb_store::{
    EmbeddedChunk, KbChange, KbPassage, KbStore, Page, PageRequest, ProcessedDocument, StoreError,
    StoreResult,
};

use crate::json::to_json;
use crate::{Db, Query, Row, SqlStore, Tx, each, expect_found, q};

/// A document's columns, for [`document_from_row`].
macro_rules! columns {
    () => {
        "id, tenant_id, title, url, format, widget_ids_json, status, error, language, \
         chunk_count, characters, embedding_model, created_at, updated_at"
    };
}

/// The columns, comma-separated, each behind `$alias` (a table alias such as `"c."`, or `""`).
macro_rules! aliased {
    ($alias:literal; $first:ident $(, $column:ident)*) => {
        concat!($alias, stringify!($first) $(, ", ", $alias, stringify!($column))*)
    };
}

/// A chunk's columns, for [`chunk_from_row`]; `chunk_columns!("c.")` puts each behind an alias.
macro_rules! chunk_columns {
    () => {
        chunk_columns!("")
    };
    ($alias:literal) => {
        aliased!($alias; id, document_id, tenant_id, ord, headings_json, text, language, embedding)
    };
}

fn document_from_row(row: &Row) -> StoreResult<KbDocument> {
    let status = row.text("status")?;
    Ok(KbDocument {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        title: row.text("title")?,
        url: row.opt_text("url")?,
        format: row.text("format")?,
        widget_ids: row.json("widget_ids_json")?,
        status: KbStatus::parse(&status)
            .ok_or_else(|| StoreError::Internal(format!("unknown document status {status}")))?,
        error: row.opt_text("error")?,
        language: row.opt_text("language")?,
        chunks: u32::try_from(row.int("chunk_count")?).unwrap_or(u32::MAX),
        characters: u32::try_from(row.int("characters")?).unwrap_or(u32::MAX),
        embedding_model: row.opt_text("embedding_model")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

/// Embeddings are stored as base64 of little-endian f32s.
fn encode_vector(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    STANDARD.encode(bytes)
}

fn decode_vector(text: &str) -> StoreResult<Vec<f32>> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|err| StoreError::Internal(format!("column embedding: {err}")))?;
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

fn chunk_from_row(row: &Row) -> StoreResult<KbChunk> {
    Ok(KbChunk {
        id: row.parse("id")?,
        document_id: row.parse("document_id")?,
        tenant_id: row.parse("tenant_id")?,
        ord: u32::try_from(row.int("ord")?).unwrap_or(u32::MAX),
        headings: row.json("headings_json")?,
        text: row.text("text")?,
        language: row.text("language")?,
        embedding: row.opt_text("embedding")?.as_deref().map(decode_vector).transpose()?,
    })
}

/// Binds what an editor sets of a document (title, url, format, widgets, status, error), in
/// that order: consecutive in both the INSERT and the UPDATE.
fn bind_document_fields(query: Query, d: &KbDocument) -> Query {
    query
        .text(&d.title)
        .opt_text(d.url.clone())
        .text(&d.format)
        .json(to_json(&d.widget_ids))
        .text(d.status.as_str())
        .opt_text(d.error.clone())
}

async fn record_change(tx: &mut dyn Tx, document: &DocumentId) -> StoreResult<()> {
    let query = q("INSERT INTO kb_changes (document_id, created_at) VALUES ($1, $2)")
        .text(document.as_str())
        .ts(Timestamp::now());
    tx.execute(query).await.map(drop)
}

/// The `WHERE` that makes a write apply only to the version that was processed.
macro_rules! unchanged {
    () => {
        "tenant_id = $1 AND id = $2 AND updated_at = $3"
    };
}

impl<D: Db> SqlStore<D> {
    /// What processing document `id` came to, in one transaction: `update` (which writes only
    /// to the version that was processed, see `unchanged!`), its chunks replaced by `chunks`,
    /// and the change recorded. False, with nothing written, if the document changed meanwhile.
    async fn settle_document(
        &self,
        update: Query,
        tenant: &TenantId,
        id: &DocumentId,
        chunks: &[KbChunk],
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        if tx.execute(update).await? == 0 {
            return Ok(false);
        }
        tx.execute(q("DELETE FROM kb_chunks WHERE document_id = $1").text(id.as_str())).await?;
        for c in chunks {
            let sql = concat!(
                "INSERT INTO kb_chunks (",
                chunk_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            );
            let query = q(sql)
                .text(c.id.as_str())
                .text(id.as_str())
                .text(tenant.as_str())
                .int(i64::from(c.ord))
                .json(to_json(&c.headings))
                .text(&c.text)
                .text(&c.language)
                .opt_text(c.embedding.as_deref().map(encode_vector));
            tx.execute(query).await?;
        }
        record_change(tx.as_mut(), id).await?;
        tx.commit().await.map(|()| true)
    }
}

#[async_trait]
impl<D: Db> KbStore for SqlStore<D> {
    async fn create_document(&self, d: &KbDocument, content: &str) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let sql = concat!(
            "INSERT INTO kb_documents (",
            columns!(),
            ", content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        );
        let query = bind_document_fields(q(sql).text(d.id.as_str()).text(d.tenant_id.as_str()), d)
            .opt_text(d.language.clone())
            .int(i64::from(d.chunks))
            .int(i64::from(d.characters))
            .opt_text(d.embedding_model.clone())
            .ts(d.created_at)
            .ts(d.updated_at)
            .text(content);
        tx.execute(query).await?;
        record_change(tx.as_mut(), &d.id).await?;
        tx.commit().await
    }

    async fn get_document(&self, tenant: &TenantId, id: &DocumentId) -> StoreResult<KbDocument> {
        let sql =
            concat!("SELECT ", columns!(), " FROM kb_documents WHERE tenant_id = $1 AND id = $2");
        let row = self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?;
        document_from_row(&row)
    }

    async fn get_document_content(
        &self,
        tenant: &TenantId,
        id: &DocumentId,
    ) -> StoreResult<String> {
        let query = q("SELECT content FROM kb_documents WHERE tenant_id = $1 AND id = $2")
            .text(tenant.as_str())
            .text(id.as_str());
        self.db.fetch_one(query).await?.text("content")
    }

    async fn list_documents(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<KbDocument>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM kb_documents WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let query = q(sql).text(tenant.as_str());
        self.fetch_page(query, page, each(document_from_row), |d| d.id.to_string()).await
    }

    async fn update_document(&self, d: &KbDocument, content: Option<&str>) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let sql = "UPDATE kb_documents SET title = $1, url = $2, format = $3, widget_ids_json = $4, \
                   status = $5, error = $6, updated_at = $7, content = COALESCE($8, content) \
                   WHERE tenant_id = $9 AND id = $10";
        let query = bind_document_fields(q(sql), d)
            .ts(d.updated_at)
            .opt_text(content)
            .text(d.tenant_id.as_str())
            .text(d.id.as_str());
        expect_found(tx.execute(query).await?)?;
        record_change(tx.as_mut(), &d.id).await?;
        tx.commit().await
    }

    async fn finish_document(
        &self,
        tenant: &TenantId,
        id: &DocumentId,
        expected: Timestamp,
        p: &ProcessedDocument,
    ) -> StoreResult<bool> {
        let sql = concat!(
            "UPDATE kb_documents SET error = NULL, language = $4, chunk_count = $5, \
             characters = $6, embedding_model = $7, content = COALESCE($8, content), \
             title = COALESCE($9, title), updated_at = $10, format = COALESCE($11, format) \
             WHERE ",
            unchanged!()
        );
        let query = q(sql)
            .text(tenant.as_str())
            .text(id.as_str())
            .ts(expected)
            .opt_text(p.language.clone())
            .int(p.chunks.len() as i64)
            .int(i64::from(p.characters))
            .opt_text(p.embedding_model.clone())
            .opt_text(p.content.clone())
            .opt_text(p.title.clone())
            .ts(p.at)
            .opt_text(p.format.clone());
        self.settle_document(query, tenant, id, &p.chunks).await
    }

    async fn mark_document_ready(
        &self,
        tenant: &TenantId,
        id: &DocumentId,
        expected: Timestamp,
    ) -> StoreResult<bool> {
        let sql = concat!("UPDATE kb_documents SET status = 'ready' WHERE ", unchanged!());
        let query = q(sql).text(tenant.as_str()).text(id.as_str()).ts(expected);
        Ok(self.db.execute(query).await? > 0)
    }

    async fn fail_document(
        &self,
        tenant: &TenantId,
        id: &DocumentId,
        expected: Timestamp,
        error: &str,
    ) -> StoreResult<bool> {
        let sql = concat!(
            "UPDATE kb_documents SET status = 'failed', error = $4, chunk_count = 0, \
             embedding_model = NULL WHERE ",
            unchanged!()
        );
        let query = q(sql).text(tenant.as_str()).text(id.as_str()).ts(expected).text(error);
        self.settle_document(query, tenant, id, &[]).await
    }

    async fn delete_document(&self, tenant: &TenantId, id: &DocumentId) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let query = q("DELETE FROM kb_documents WHERE tenant_id = $1 AND id = $2")
            .text(tenant.as_str())
            .text(id.as_str());
        expect_found(tx.execute(query).await?)?;
        record_change(tx.as_mut(), id).await?;
        tx.commit().await
    }

    async fn processing_documents(&self) -> StoreResult<Vec<(TenantId, DocumentId)>> {
        let query =
            q("SELECT tenant_id, id FROM kb_documents WHERE status = 'processing' ORDER BY id");
        let rows = self.db.fetch_all(query).await?;
        rows.iter().map(|r| Ok((r.parse("tenant_id")?, r.parse("id")?))).collect()
    }

    async fn document_for_index(
        &self,
        id: &DocumentId,
    ) -> StoreResult<Option<(KbDocument, Vec<KbChunk>)>> {
        let sql = concat!("SELECT ", columns!(), " FROM kb_documents WHERE id = $1");
        let Some(row) = self.db.fetch_optional(q(sql).text(id.as_str())).await? else {
            return Ok(None);
        };
        let document = document_from_row(&row)?;
        let sql = concat!(
            "SELECT ",
            chunk_columns!(),
            " FROM kb_chunks WHERE document_id = $1 ORDER BY ord"
        );
        let rows = self.db.fetch_all(q(sql).text(id.as_str())).await?;
        let chunks = rows.iter().map(chunk_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(Some((document, chunks)))
    }

    async fn indexed_documents(
        &self,
        after: Option<&DocumentId>,
        limit: u32,
    ) -> StoreResult<Vec<DocumentId>> {
        let query = q("SELECT id FROM kb_documents d WHERE id > $1 \
             AND EXISTS (SELECT 1 FROM kb_chunks c WHERE c.document_id = d.id) \
             ORDER BY id LIMIT $2")
        .text(after.map(|a| a.as_str()).unwrap_or_default())
        .int(i64::from(limit));
        let rows = self.db.fetch_all(query).await?;
        rows.iter().map(|r| r.parse("id")).collect()
    }

    async fn changes_since(&self, seq: i64, limit: u32) -> StoreResult<Vec<KbChange>> {
        let query =
            q("SELECT seq, document_id FROM kb_changes WHERE seq > $1 ORDER BY seq LIMIT $2")
                .int(seq)
                .int(i64::from(limit));
        let rows = self.db.fetch_all(query).await?;
        rows.iter()
            .map(|r| Ok(KbChange { seq: r.int("seq")?, document_id: r.parse("document_id")? }))
            .collect()
    }

    async fn last_change(&self) -> StoreResult<i64> {
        let row =
            self.db.fetch_one(q("SELECT COALESCE(MAX(seq), 0) AS seq FROM kb_changes")).await?;
        row.int("seq")
    }

    async fn embedded_chunks(
        &self,
        tenant: &TenantId,
        model: &str,
    ) -> StoreResult<Vec<EmbeddedChunk>> {
        let query =
            q("SELECT c.id, c.document_id, c.embedding, d.widget_ids_json FROM kb_chunks c \
                       JOIN kb_documents d ON d.id = c.document_id \
                       WHERE c.tenant_id = $1 AND d.status = 'ready' AND d.embedding_model = $2 \
                       AND c.embedding IS NOT NULL")
            .text(tenant.as_str())
            .text(model);
        let rows = self.db.fetch_all(query).await?;
        rows.iter()
            .map(|r| {
                Ok(EmbeddedChunk {
                    id: r.parse("id")?,
                    document_id: r.parse("document_id")?,
                    widget_ids: r.json("widget_ids_json")?,
                    vector: decode_vector(&r.text("embedding")?)?,
                })
            })
            .collect()
    }

    async fn passages(&self, tenant: &TenantId, ids: &[ChunkId]) -> StoreResult<Vec<KbPassage>> {
        let mut passages = Vec::with_capacity(ids.len());
        // A handful per search: one query each keeps the SQL the same for both backends.
        for id in ids {
            let sql = concat!(
                "SELECT ",
                chunk_columns!("c."),
                ", d.title, d.url FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id \
                 WHERE c.tenant_id = $1 AND c.id = $2"
            );
            if let Some(row) =
                self.db.fetch_optional(q(sql).text(tenant.as_str()).text(id.as_str())).await?
            {
                passages.push(KbPassage {
                    chunk: chunk_from_row(&row)?,
                    title: row.text("title")?,
                    url: row.opt_text("url")?,
                });
            }
        }
        Ok(passages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_columns_take_an_alias() {
        let plain = "id, document_id, tenant_id, ord, headings_json, text, language, embedding";
        assert_eq!(chunk_columns!(), plain);
        assert_eq!(chunk_columns!("c."), format!("c.{}", plain.replace(", ", ", c.")));
    }

    #[test]
    fn vectors_round_trip_through_text() {
        let vector = vec![0.25_f32, -1.5, 3.0e-8, f32::MAX];
        assert_eq!(decode_vector(&encode_vector(&vector)).unwrap(), vector);
    }
}
