use async_trait::async_trait;
use sb_domain::{Author, ConversationId, MessageId, Note, TenantId};
use sb_store::{NewNote, NoteStore, StoreError, StoreResult};

use crate::{Db, Row, SqlStore, q};

macro_rules! columns {
    () => {
        "id, conversation_id, after_seq, author_user_id, text, created_at"
    };
}

fn note_from_row(row: &Row) -> StoreResult<Note> {
    Ok(Note {
        id: row.parse("id")?,
        conversation_id: row.parse("conversation_id")?,
        seq: row.int("after_seq")?,
        author: Author::Operator,
        author_user_id: row.opt_parse("author_user_id")?,
        text: row.text("text")?,
        created_at: row.ts("created_at")?,
        private: true,
    })
}

#[async_trait]
impl<D: Db> NoteStore for SqlStore<D> {
    async fn add_note(&self, note: NewNote<'_>) -> StoreResult<Note> {
        // Placed after the last message in the same statement, so no message slips between.
        let sql = "INSERT INTO notes \
             (id, tenant_id, conversation_id, after_seq, author_user_id, text, created_at) \
             SELECT $1, c.tenant_id, c.id, c.last_seq, $4, $5, $6 FROM conversations c \
             WHERE c.tenant_id = $2 AND c.id = $3 \
             RETURNING id, conversation_id, after_seq, author_user_id, text, created_at";
        let query = q(sql)
            .text(note.id.as_str())
            .text(note.tenant.as_str())
            .text(note.conversation.as_str())
            .opt_text(note.author_user_id.map(|u| u.as_str()))
            .text(note.text)
            .ts(note.created_at);
        let rows = self.db.write_unit(vec![query]).await?;
        let row = rows.first().and_then(|r| r.first()).ok_or(StoreError::NotFound)?;
        note_from_row(row)
    }

    async fn list_notes(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        after_seq: i64,
    ) -> StoreResult<Vec<Note>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM notes WHERE tenant_id = $1 AND conversation_id = $2 \
             AND after_seq >= $3 ORDER BY after_seq, created_at, id"
        );
        let query = q(sql).text(tenant.as_str()).text(conversation.as_str()).int(after_seq);
        self.db.fetch_all(query).await?.iter().map(note_from_row).collect()
    }

    async fn get_note(&self, tenant: &TenantId, id: &MessageId) -> StoreResult<Note> {
        let sql = concat!("SELECT ", columns!(), " FROM notes WHERE tenant_id = $1 AND id = $2");
        note_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }
}
