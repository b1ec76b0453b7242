//! Contacts: the person behind a visitor, across conversations. A conversation's visitor is
//! matched when it starts — by the user id the site signed, else by the browser (a random id the
//! widget keeps, stored only as a hash) — and the contact's profile follows what they say.

use std::collections::BTreeMap;

use sb_domain::{
    Contact, ContactId, Conversation, MAX_ATTRIBUTES_BYTES, Page, PageRequest, Role, TenantId,
    Timestamp, ValidationError, Visitor,
};
use sb_secrets::sha256_hex;
use sb_store::{ContactKey, StoreError};
use serde_json::Value;

use super::{ConversationsService, language_tag, optional_text};
use crate::{Actor, EngineError};

/// A browser's id as the widget sends it: 16–64 letters, digits, `-` and `_`.
pub(crate) fn browser_id(raw: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(id) = raw.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let fits = (16..=64).contains(&id.len())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fits {
        Ok(Some(id))
    } else {
        let message = "a browser id has 16–64 letters, digits, - and _";
        Err(ValidationError::new("visitor.browser_id", "invalid_browser_id", message))
    }
}

/// What the profile takes from a visitor: the newest details they gave, and a signed identity.
/// (A signed contact is only ever matched by a visitor signed as the same person.)
fn absorb(contact: &mut Contact, visitor: &Visitor, now: Timestamp) {
    if visitor.verified {
        contact.verified = true;
        contact.user_id.clone_from(&visitor.user_id);
    }
    for (mine, given) in [
        (&mut contact.name, &visitor.name),
        (&mut contact.email, &visitor.email),
        (&mut contact.language, &visitor.language),
    ] {
        if given.is_some() {
            mine.clone_from(given);
        }
    }
    contact.last_seen_at = now;
}

impl ConversationsService {
    /// The contact of a starting conversation: found (and brought up to date) or created.
    pub(super) async fn contact_for(
        &self,
        tenant: &TenantId,
        visitor: &Visitor,
        browser: Option<&str>,
    ) -> Result<ContactId, EngineError> {
        let browser_hash = browser.map(sha256_hex);
        let now = Timestamp::now();
        for _ in 0..3 {
            let by_user = match (&visitor.user_id, visitor.verified) {
                (Some(user), true) => {
                    self.store.contacts.find_contact(tenant, ContactKey::VerifiedUser(user)).await?
                }
                _ => None,
            };
            let on_browser = match (&by_user, &browser_hash) {
                (None, Some(hash)) => {
                    self.store.contacts.find_contact(tenant, ContactKey::Browser(hash)).await?
                }
                _ => None,
            };
            // A browser's contact the site signed is that person only: an unsigned visitor on
            // a shared computer, or someone else signed in there, is not them (and sees none of
            // it). The browser stays theirs.
            let someone_else =
                |c: &Contact| c.verified && !(visitor.verified && c.user_id == visitor.user_id);
            let browser_taken = on_browser.as_ref().is_some_and(someone_else);
            let by_browser = on_browser.filter(|c| !someone_else(c));
            if let Some(mut contact) = by_user.or(by_browser) {
                absorb(&mut contact, visitor, now);
                // The browser moves to the contact that wrote from it last. Only what a visit
                // says is written: an operator's attributes saved meanwhile stay.
                let moved =
                    self.store.contacts.record_visit(&contact, browser_hash.as_deref()).await;
                match moved {
                    Err(StoreError::Conflict(_)) => {
                        self.store.contacts.record_visit(&contact, None).await?;
                    }
                    other => other?,
                }
                return Ok(contact.id);
            }
            let mut contact = Contact {
                id: ContactId::new(),
                tenant_id: tenant.clone(),
                name: None,
                email: None,
                user_id: None,
                verified: false,
                language: None,
                attributes: BTreeMap::new(),
                first_seen_at: now,
                last_seen_at: now,
            };
            absorb(&mut contact, visitor, now);
            let browser = if browser_taken { None } else { browser_hash.as_deref() };
            match self.store.contacts.create_contact(&contact, browser).await {
                // Created meanwhile by the same person's other first conversation: find it.
                Err(StoreError::Conflict(_)) => continue,
                other => other?,
            }
            return Ok(contact.id);
        }
        Err(EngineError::Store(StoreError::Conflict(sb_store::Constraint::ContactBrowser)))
    }

    pub async fn list_contacts(
        &self,
        actor: &Actor,
        query: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Contact>, EngineError> {
        actor.require(Role::Operator)?;
        let query = query.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
        Ok(self.store.contacts.list_contacts(&actor.tenant_id, query.as_deref(), page).await?)
    }

    pub async fn get_contact(&self, actor: &Actor, id: &ContactId) -> Result<Contact, EngineError> {
        actor.require(Role::Operator)?;
        Ok(self.store.contacts.get_contact(&actor.tenant_id, id).await?)
    }

    pub async fn contact_conversations(
        &self,
        actor: &Actor,
        id: &ContactId,
    ) -> Result<Vec<Conversation>, EngineError> {
        actor.require(Role::Operator)?;
        self.store.contacts.get_contact(&actor.tenant_id, id).await?;
        Ok(self.store.contacts.contact_conversations(&actor.tenant_id, id).await?)
    }

    /// Operators correct a profile and keep the account's own facts in `attributes` (a key set
    /// to null is removed). A verified identity is the site's: it cannot be edited here.
    pub async fn update_contact(
        &self,
        actor: &Actor,
        id: &ContactId,
        update: ContactUpdate,
    ) -> Result<Contact, EngineError> {
        actor.require(Role::Operator)?;
        let mut contact = self.store.contacts.get_contact(&actor.tenant_id, id).await?;
        // The visitor's checks, naming the contact's own fields.
        let own = |mut e: ValidationError| {
            e.field = e.field.trim_start_matches("visitor.").to_owned().into();
            e
        };
        if let Some(name) = update.name {
            contact.name = optional_text("name", name, 100).map_err(own)?;
        }
        if let Some(email) = update.email {
            contact.email = optional_text("email", email, 254)
                .map_err(own)?
                .map(|e| sb_domain::Email::parse(&e).map(|e| e.to_string()))
                .transpose()?;
        }
        if let Some(language) = update.language {
            contact.language = language_tag(language).map_err(own)?;
        }
        for (key, value) in update.attributes {
            let field = format!("attributes.{key}");
            if key.is_empty() || key.chars().count() > 64 || key.chars().any(char::is_control) {
                return Err(ValidationError::new(
                    field,
                    "invalid_field",
                    "an attribute's name has 1–64 characters",
                )
                .into());
            }
            match value {
                Value::Null => {
                    contact.attributes.remove(&key);
                }
                value => {
                    contact.attributes.insert(key, value);
                }
            }
        }
        if serde_json::to_vec(&contact.attributes).map_or(usize::MAX, |b| b.len())
            > MAX_ATTRIBUTES_BYTES
        {
            let message =
                format!("a contact's attributes take at most {} KiB", MAX_ATTRIBUTES_BYTES / 1024);
            return Err(ValidationError::new("attributes", "too_large", message).into());
        }
        self.store.contacts.update_contact(&contact, None).await?;
        Ok(contact)
    }
}

/// The fields of a contact to change; `Some(None)` clears one.
#[derive(Debug, Default)]
pub struct ContactUpdate {
    pub name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub language: Option<Option<String>>,
    pub attributes: BTreeMap<String, Value>,
}
