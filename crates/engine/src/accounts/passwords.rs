//! Passwords after sign-up: a person changes their own (with the current one), an owner or admin
//! sets a team member's, anyone resets a forgotten one through a single-use link sent by e-mail,
//! and new team members join through an invitation link where they choose their own.

use std::time::Duration;

use async_trait::async_trait;
use sb_domain::{
    Email, InvitationId, Role, SessionId, Timestamp, User, UserId, ValidationError, random_token,
    validate_password,
};
use sb_secrets::{Secret, sha256_hex};
use sb_store::{Invitation, StoreError};

use super::{AccountsService, hash_password, password_matches};
use crate::{Actor, EngineError};

/// How long a password-reset link works.
pub const RESET_LINK_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How long an invitation link works.
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// Sends e-mail (SMTP in the server; a recorder in tests).
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    async fn send(&self, to: &Email, subject: &str, body: &str) -> Result<(), String>;
}

/// Where links in e-mails point: the server's public URL (never a request's Host header, which a
/// caller could set to their own site to receive someone's reset link).
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    pub mailer: Option<&'a dyn Mailer>,
    pub public_url: Option<&'a str>,
}

impl<'a> Links<'a> {
    /// The mailer and where links point, when this server sends e-mail at all.
    pub fn mail(self) -> Option<(&'a dyn Mailer, &'a str)> {
        self.mailer.zip(self.public_url)
    }
}

fn later(lifetime: Duration) -> Timestamp {
    Timestamp::now() + jiff::SignedDuration::try_from(lifetime).unwrap_or_default()
}

fn invalid_link() -> EngineError {
    ValidationError::new("token", "invalid_token", "this link is unknown, used or expired").into()
}

impl AccountsService {
    /// Changes the caller's own password; every other session of theirs ends.
    pub async fn change_password(
        &self,
        actor: &Actor,
        session: Option<&SessionId>,
        current: Secret<String>,
        new: Secret<String>,
    ) -> Result<(), EngineError> {
        let Some(user) = &actor.user_id else {
            return Err(EngineError::Forbidden("an API key without a person has no password"));
        };
        let hash = self.store.credentials.password_hash(&actor.tenant_id, user).await?;
        if !password_matches(current, Some(hash)).await? {
            return Err(ValidationError::new(
                "current_password",
                "invalid_credentials",
                "the current password is wrong",
            )
            .into());
        }
        validate_password(new.expose()).map_err(|mut e| {
            e.field = "new_password".into();
            e
        })?;
        let hash = hash_password(new).await?;
        Ok(self.store.credentials.set_password(&actor.tenant_id, user, &hash, session).await?)
    }

    /// Sets a team member's password (owners for anyone, admins for admins and operators); all of
    /// that person's sessions end.
    pub async fn set_member_password(
        &self,
        actor: &Actor,
        member: &UserId,
        new: Secret<String>,
    ) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        if actor.user_id.as_ref() == Some(member) {
            return Err(EngineError::Forbidden(
                "change your own password with PUT /me/password, which asks for the current one",
            ));
        }
        let target = self.store.accounts.get_user(&actor.tenant_id, member).await?;
        if !actor.role.can_grant(target.role) {
            return Err(EngineError::Forbidden("only owners may set an owner's password"));
        }
        validate_password(new.expose())?;
        let hash = hash_password(new).await?;
        Ok(self.store.credentials.set_password(&actor.tenant_id, member, &hash, None).await?)
    }

    /// Sends a reset link when `email` belongs to someone and e-mail is configured. Says nothing
    /// either way, so the answer does not reveal who has an account.
    pub async fn request_password_reset(
        &self,
        links: Links<'_>,
        email: &str,
    ) -> Result<(), EngineError> {
        let Some((mailer, base)) = links.mail() else { return Ok(()) };
        let Ok(email) = Email::parse(email) else { return Ok(()) };
        let Some(credentials) = self.store.accounts.find_credentials_by_email(&email).await? else {
            return Ok(());
        };
        let user = credentials.user;
        let token = random_token(32);
        let expires = later(RESET_LINK_LIFETIME);
        self.store
            .credentials
            .create_password_reset(&user.tenant_id, &user.id, &sha256_hex(&token), expires)
            .await?;
        let body = format!(
            "Someone asked to reset the password of your Switchboard account ({email}).\n\n\
         To choose a new password, open this link within 30 minutes:\n\n{base}/#reset/{token}\n\n\
         If it was not you, ignore this message: your password stays as it is."
        );
        if let Err(err) = mailer.send(&email, "Reset your Switchboard password", &body).await {
            tracing::warn!(user_id = %user.id, error = %err, "could not send a password-reset e-mail");
        }
        Ok(())
    }

    /// Sets a new password through a reset link (once); every session of that person ends.
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new: Secret<String>,
    ) -> Result<(), EngineError> {
        validate_password(new.expose())?;
        let hash = hash_password(new).await?;
        let (tenant, user) = self
            .store
            .credentials
            .use_password_reset(&sha256_hex(token), Timestamp::now())
            .await?
            .ok_or_else(invalid_link)?;
        Ok(self.store.credentials.set_password(&tenant, &user, &hash, None).await?)
    }

    /// Invites `email` to join as `role`. The link (with its token) is returned once, for the inviter
    /// to pass on, and e-mailed when e-mail is configured.
    pub async fn invite(
        &self,
        actor: &Actor,
        links: Links<'_>,
        email: &str,
        role: Role,
    ) -> Result<(Invitation, String), EngineError> {
        actor.require(Role::Admin)?;
        if !actor.role.can_grant(role) {
            return Err(EngineError::Forbidden("only owners may invite owners"));
        }
        let email = Email::parse(email)?;
        if self.store.accounts.find_credentials_by_email(&email).await?.is_some() {
            return Err(StoreError::Conflict(sb_store::Constraint::UserEmail).into());
        }
        let invitation = Invitation {
            id: InvitationId::new(),
            tenant_id: actor.tenant_id.clone(),
            email,
            role,
            invited_by: actor.user_id.clone(),
            created_at: Timestamp::now(),
            expires_at: later(INVITATION_LIFETIME),
        };
        let token = random_token(32);
        self.store.credentials.create_invitation(&invitation, &sha256_hex(&token)).await?;
        if let Some((mailer, base)) = links.mail() {
            let tenant = self.store.accounts.get_tenant(&actor.tenant_id).await?;
            let body = format!(
                "You are invited to join {} on Switchboard as {}.\n\n\
             Open this link within 7 days to choose your password:\n\n{base}/#invite/{token}",
                tenant.name.as_str(),
                role.as_str()
            );
            let subject = format!("Join {} on Switchboard", tenant.name.as_str());
            if let Err(err) = mailer.send(&invitation.email, &subject, &body).await {
                tracing::warn!(invitation = %invitation.id, error = %err, "could not send an invitation");
            }
        }
        Ok((invitation, token))
    }

    /// Accepts an invitation (once): the new person, with the password they chose.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: Secret<String>,
    ) -> Result<User, EngineError> {
        validate_password(password.expose())?;
        let hash = hash_password(password).await?;
        let id = UserId::new();
        self.store
            .credentials
            .accept_invitation(&sha256_hex(token), &id, &hash, Timestamp::now())
            .await?
            .ok_or_else(invalid_link)
    }

    pub async fn list_invitations(&self, actor: &Actor) -> Result<Vec<Invitation>, EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.credentials.list_invitations(&actor.tenant_id, Timestamp::now()).await?)
    }

    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        id: &InvitationId,
    ) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.credentials.delete_invitation(&actor.tenant_id, id).await?)
    }
}
