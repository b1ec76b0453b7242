//! Attachments: a row per file (whose conversation it is) and the bytes, in the row
//! (PostgreSQL) or in a file named by the attachment's id in the backend's folder (SQLite,
//! beside the database). A file is written (and synced) before its row, and removed again
//! when the row cannot be written; a crash in between leaves a file no row names, which
//! [`AttachmentStore::sweep_attachment_files`] removes later.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sb_domain::attachment::AttachmentRef;
use sb_domain::{AttachmentId, ContactId, ConversationId, Message, TenantId, Timestamp};
use sb_store::{AttachmentStore, NewAttachment, NewMessage, StoreError, StoreResult};

use crate::conversations::{append_statements, stored};
use crate::{Db, Query, Row, SqlStore, q};

fn io(path: &Path, err: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("attachment file {}: {err}", path.display()))
}

/// Writes `bytes` to `dir/name` durably: a private temporary file, synced, then renamed.
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> StoreResult<()> {
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io(dir, e))?;
    }
    let target = dir.join(name);
    let partial = dir.join(format!("{name}.partial"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| io(&partial, e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| io(&partial, e))?;
    std::fs::rename(&partial, &target).map_err(|e| io(&target, e))?;
    // The new name is durable only once the folder is synced too.
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, e))
}

/// Removes the named files from `dir`; ones already gone are fine. Tries every one, and says
/// how the first that could not be removed failed.
pub(crate) async fn remove_files(dir: Option<&Path>, ids: Vec<String>) -> StoreResult<()> {
    let Some(dir) = dir.map(Path::to_path_buf) else { return Ok(()) };
    blocking(move || {
        let mut first_failure = None;
        for id in ids {
            let path = dir.join(&id);
            if let Err(err) = std::fs::remove_file(&path)
                && err.kind() != std::io::ErrorKind::NotFound
            {
                first_failure.get_or_insert(io(&path, err));
            }
        }
        first_failure.map_or(Ok(()), Err)
    })
    .await
}

/// The files a conversation's deletion takes with it (read before deleting it).
pub(crate) fn files_of(tenant: &str, conversation: &str) -> Query {
    q("SELECT id FROM attachments WHERE tenant_id = $1 AND conversation_id = $2")
        .text(tenant)
        .text(conversation)
}

fn listed_from_row(row: &Row) -> StoreResult<AttachmentRef> {
    let id: AttachmentId = row.parse("id")?;
    let conversation: ConversationId = row.parse("conversation_id")?;
    Ok(AttachmentRef {
        url: AttachmentRef::staff_url(&conversation, &id),
        id,
        name: row.text("name")?,
        content_type: row.text("content_type")?,
        size: u64::try_from(row.int("size")?).unwrap_or_default(),
    })
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| StoreError::Internal(format!("file task failed: {err}")))?
}

#[async_trait]
impl<D: Db> AttachmentStore for SqlStore<D> {
    async fn append_message_with_files(
        &self,
        tenant: &TenantId,
        m: NewMessage<'_>,
        files: &[NewAttachment<'_>],
    ) -> StoreResult<Message> {
        let dir: Option<PathBuf> = self.db.file_dir().map(Path::to_path_buf);
        let names: Vec<String> = files.iter().map(|f| f.listed.id.to_string()).collect();
        if let Some(dir) = dir.clone() {
            let owned: Vec<(String, Vec<u8>)> =
                files.iter().map(|f| (f.listed.id.to_string(), f.bytes.to_vec())).collect();
            blocking(move || {
                owned.iter().try_for_each(|(name, bytes)| write_file(&dir, name, bytes))
            })
            .await?;
        }
        let mut unit = Vec::from(append_statements(tenant, &m));
        for file in files {
            let insert = q("INSERT INTO attachments (id, tenant_id, conversation_id, message_id, \
                 name, content_type, size, content, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .text(file.listed.id.as_str())
            .text(tenant.as_str())
            .text(m.conversation_id.as_str())
            .text(m.id.as_str())
            .text(&file.listed.name)
            .text(&file.listed.content_type)
            .int(i64::try_from(file.bytes.len()).unwrap_or(i64::MAX))
            .bytes(dir.is_none().then(|| file.bytes.to_vec()))
            .ts(m.created_at);
            unit.push(insert);
        }
        unit.extend(crate::search::term_inserts(tenant, m.conversation_id, m.search_terms));
        unit.extend(crate::analytics::on_message(tenant, &m));
        let written = match self.db.write_unit(unit).await {
            Ok(written) => written,
            Err(err) => {
                // What cannot be removed now, the sweep removes later.
                let _ = remove_files(dir.as_deref(), names).await;
                return Err(err);
            }
        };
        let row = written.first().and_then(|rows| rows.first()).ok_or(StoreError::NotFound)?;
        Ok(stored(&m, row.int("last_seq")?))
    }

    async fn attachment(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        id: &AttachmentId,
    ) -> StoreResult<(AttachmentRef, Vec<u8>)> {
        let query = q("SELECT id, conversation_id, name, content_type, size, content \
             FROM attachments WHERE tenant_id = $1 AND conversation_id = $2 AND id = $3")
        .text(tenant.as_str())
        .text(conversation.as_str())
        .text(id.as_str());
        let row = self.db.fetch_one(query).await?;
        let listed = listed_from_row(&row)?;
        let bytes = match (row.opt_bytes("content")?, self.db.file_dir()) {
            (Some(bytes), _) => bytes,
            (None, Some(dir)) => {
                let path = dir.join(id.as_str());
                blocking(move || match std::fs::read(&path) {
                    Ok(bytes) => Ok(bytes),
                    // Its conversation is going (an erasure between the two reads).
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                        Err(StoreError::NotFound)
                    }
                    Err(err) => Err(io(&path, err)),
                })
                .await?
            }
            (None, None) => {
                return Err(StoreError::Internal(format!("attachment {id} has no bytes")));
            }
        };
        Ok((listed, bytes))
    }

    async fn contact_attachments(
        &self,
        tenant: &TenantId,
        contact: &ContactId,
    ) -> StoreResult<Vec<(ConversationId, AttachmentRef)>> {
        let query = q("SELECT a.id, a.conversation_id, a.name, a.content_type, a.size \
             FROM attachments a JOIN conversations c ON c.tenant_id = a.tenant_id \
             AND c.id = a.conversation_id WHERE a.tenant_id = $1 AND c.contact_id = $2 \
             ORDER BY a.created_at, a.id")
        .text(tenant.as_str())
        .text(contact.as_str());
        let rows = self.db.fetch_all(query).await?;
        rows.iter().map(|row| Ok((row.parse("conversation_id")?, listed_from_row(row)?))).collect()
    }

    async fn sweep_attachment_files(&self, before: Timestamp) -> StoreResult<u64> {
        let Some(dir) = self.db.file_dir().map(Path::to_path_buf) else { return Ok(0) };
        let cutoff = std::time::SystemTime::from(before);
        let listing = dir.clone();
        let old: Vec<String> = blocking(move || {
            let entries = match std::fs::read_dir(&listing) {
                Ok(entries) => entries,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(err) => return Err(io(&listing, err)),
            };
            let mut old = Vec::new();
            for entry in entries.flatten() {
                let written = entry.metadata().and_then(|m| m.modified());
                if written.is_ok_and(|at| at < cutoff) {
                    old.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
            Ok(old)
        })
        .await?;
        let mut orphans = Vec::new();
        for name in old {
            let known = match name.parse::<AttachmentId>() {
                Ok(id) => self
                    .db
                    .fetch_optional(q("SELECT id FROM attachments WHERE id = $1").text(id.as_str()))
                    .await?
                    .is_some(),
                // A partial write, or nothing of ours.
                Err(_) => false,
            };
            if !known {
                orphans.push(name);
            }
        }
        let count = orphans.len() as u64;
        remove_files(Some(&dir), orphans).await?;
        Ok(count)
    }
}
