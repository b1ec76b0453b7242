//! The inbox's view of conversations: latest activity first, each with its newest message and
//! whether the person asking has read what the visitor wrote.

use sb_domain::{ConversationId, LastMessage, ListedConversation, TenantId, Timestamp, UserId};
use sb_store::{ActivityCursor, ConversationFilter, Page, PageRequest, StoreResult};

use crate::conversations::conversation_from_row;
use std::sync::LazyLock;

use crate::labels::label_pattern;
use crate::search::{bind_words, word_conditions};
use crate::{Db, Row, SqlStore, expect_found, q};

/// One page of the tenant's conversations for reader `$2` (`''`: nobody). A conversation's
/// activity is its last message's time, or its creation; ties go by id, so the cursor (`$7`
/// the activity, `$8` the id of the last one seen, `''` for the first page) is exact. The
/// newest message is the one numbered `last_seq`; unread means a visitor message numbered
/// beyond the reader's mark.
static LIST: LazyLock<String> = LazyLock::new(|| {
    let (head, tail) = LIST_SHAPE.split_once("ORDER BY").expect("the list is ordered");
    format!("{head}{} ORDER BY{tail}", word_conditions(13))
});

/// [`LIST`] without the words searched for (from `$13`, see [`word_conditions`]); `$11` and
/// `$12` bound when conversations started.
const LIST_SHAPE: &str = "SELECT c.id, c.tenant_id, c.widget_id, c.status, c.assigned_user_id, \
     c.assigned_team_id, c.visitor_json, c.variables_json, c.created_at, c.updated_at, \
     c.last_message_at, c.labels_json, c.contact_id, c.outcome, c.outcome_at, c.channel_kind, \
     c.channel_id, \
     lm.author AS last_author, lm.author_user_id AS last_author_user_id, \
     substr(lm.text, 1, 600) AS last_text, \
     lm.created_at AS last_created_at, \
     ($2 <> '' AND EXISTS (SELECT 1 FROM messages v WHERE v.conversation_id = c.id \
         AND v.author = 'visitor' AND v.seq > COALESCE(r.read_seq, 0))) AS unread \
     FROM conversations c \
     LEFT JOIN messages lm ON lm.tenant_id = c.tenant_id AND lm.conversation_id = c.id \
         AND lm.seq = c.last_seq \
     LEFT JOIN read_marks r ON r.tenant_id = c.tenant_id AND r.conversation_id = c.id \
         AND r.user_id = $2 \
     WHERE c.tenant_id = $1 \
     AND ($3 = '' OR c.status = $3) \
     AND ($4 = '' OR c.widget_id = $4) \
     AND ($5 = 0 OR ($5 = 1 AND c.assigned_user_id IS NULL) OR ($5 = 2 AND c.assigned_user_id = $6)) \
     AND ($10 = '' OR c.labels_json LIKE $10 ESCAPE '\\') \
     AND c.created_at >= $11 AND c.created_at < $12 \
     AND ($8 = '' OR COALESCE(c.last_message_at, c.created_at) < $7 \
         OR (COALESCE(c.last_message_at, c.created_at) = $7 AND c.id < $8)) \
     ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT $9";

/// Sets the reader's mark to the conversation's last message, if the conversation is the
/// tenant's. A mark never moves back.
const MARK_READ: &str = "INSERT INTO read_marks \
     (tenant_id, conversation_id, user_id, read_seq, read_at) \
     SELECT c.tenant_id, c.id, $3, c.last_seq, $4 FROM conversations c \
     WHERE c.tenant_id = $1 AND c.id = $2 \
     ON CONFLICT (conversation_id, user_id) DO UPDATE SET \
     read_seq = CASE WHEN read_marks.read_seq > excluded.read_seq \
         THEN read_marks.read_seq ELSE excluded.read_seq END, \
     read_at = excluded.read_at";

fn listed_from_row(row: &Row) -> StoreResult<ListedConversation> {
    let last_message = match row.opt_parse("last_author")? {
        Some(author) => Some(LastMessage {
            author,
            author_user_id: row.opt_parse("last_author_user_id")?,
            text: LastMessage::preview(&row.text("last_text")?),
            created_at: row.ts("last_created_at")?,
        }),
        None => None,
    };
    Ok(ListedConversation {
        conversation: conversation_from_row(row)?,
        last_message,
        unread: row.boolean("unread")?,
    })
}

/// Where the next page starts after `listed`.
fn cursor_of(listed: &ListedConversation) -> String {
    let c = &listed.conversation;
    ActivityCursor { activity: c.last_message_at.unwrap_or(c.created_at), id: c.id.clone() }
        .to_string()
}

impl<D: Db> SqlStore<D> {
    pub(crate) async fn inbox_page(
        &self,
        tenant: &TenantId,
        filter: &ConversationFilter,
        reader: Option<&UserId>,
        page: &PageRequest,
    ) -> StoreResult<Page<ListedConversation>> {
        let after = match page.after.as_deref() {
            None => None,
            // Not a cursor this list gave: there is no such place in it.
            Some(text) => match ActivityCursor::parse(text) {
                Some(cursor) => Some(cursor),
                None => return Ok(Page { items: Vec::new(), next: None }),
            },
        };
        let (assigned_filter, assignee) = match &filter.assigned_to {
            None => (0, String::new()),
            Some(None) => (1, String::new()),
            Some(Some(user)) => (2, user.to_string()),
        };
        let query = q(LIST.as_str())
            .text(tenant.as_str())
            .text(reader.map(UserId::as_str).unwrap_or_default())
            .text(filter.status.map(|s| s.as_str()).unwrap_or_default())
            .text(filter.widget_id.as_ref().map(|w| w.as_str()).unwrap_or_default())
            .int(assigned_filter)
            .text(assignee)
            .ts(after.as_ref().map_or(Timestamp::UNIX_EPOCH, |a| a.activity))
            .text(after.as_ref().map(|a| a.id.as_str()).unwrap_or_default())
            .int(page.fetch_limit())
            .text(filter.label.as_deref().map(label_pattern).unwrap_or_default())
            .int(filter.from.map_or(i64::MIN, |t| t.as_millisecond()))
            .int(filter.to.map_or(i64::MAX, |t| t.as_millisecond()));
        let query = bind_words(query, &filter.words);
        let rows = self.db.fetch_all(query).await?;
        let items = rows.iter().map(listed_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(page.finish(items, cursor_of))
    }

    pub(crate) async fn mark_conversation_read(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        user: &UserId,
    ) -> StoreResult<()> {
        let query = q(MARK_READ)
            .text(tenant.as_str())
            .text(conversation.as_str())
            .text(user.as_str())
            .ts(Timestamp::now());
        expect_found(self.db.execute(query).await?)
    }
}
