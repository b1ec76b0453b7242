use async_trait::async_trait;
use sb_domain::{Contact, ContactId, Conversation, TenantId};

use crate::{Page, PageRequest, StoreResult};

/// How a returning visitor is recognised.
#[derive(Debug, Clone, Copy)]
pub enum ContactKey<'a> {
    /// The site's id for the person, proven by a signature.
    VerifiedUser(&'a str),
    /// The hash of the browser's random id.
    Browser(&'a str),
}

/// Each tenant's contacts.
#[async_trait]
pub trait ContactStore: Send + Sync {
    async fn find_contact(
        &self,
        tenant: &TenantId,
        key: ContactKey<'_>,
    ) -> StoreResult<Option<Contact>>;
    /// Conflict `ContactUser` or `ContactBrowser` when another contact has that key (two first
    /// conversations at once): find it instead.
    async fn create_contact(&self, contact: &Contact, browser: Option<&str>) -> StoreResult<()>;
    /// Saves the profile; `browser` (when given) becomes the contact's browser.
    async fn update_contact(&self, contact: &Contact, browser: Option<&str>) -> StoreResult<()>;
    /// Saves what a visit tells — identity, name, e-mail, language, last seen, the browser when
    /// given — and leaves the attributes as they are.
    async fn record_visit(&self, contact: &Contact, browser: Option<&str>) -> StoreResult<()>;
    async fn get_contact(&self, tenant: &TenantId, id: &ContactId) -> StoreResult<Contact>;
    /// Latest seen first; `query` (lowercase) keeps those whose name, e-mail or user id holds it.
    async fn list_contacts(
        &self,
        tenant: &TenantId,
        query: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Contact>>;
    /// Every conversation of the contact, newest first (an export must be complete).
    async fn contact_conversations(
        &self,
        tenant: &TenantId,
        contact: &ContactId,
    ) -> StoreResult<Vec<Conversation>>;
}
