//! Replies going out through their channel. A channel conversation's thread remembers how far
//! its messages went out (`delivered_seq`); every bot or operator message beyond it is still
//! to send. So a reply is sent whichever way it was written (a rule, the AI, a person, an
//! approved action), survives a restart, and goes out once: a node claims the thread for a
//! minute before sending (a dead node's claim runs out), sends for at most half of it, and each
//! sent message moves the mark only while the claim is still its own.
//! A failed send is tried again later, the messages after it waiting so the order holds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sb_channels::email::{EmailSettings, message_id};
use sb_channels::telegram::TelegramSettings;
use sb_channels::whatsapp::WhatsAppSettings;
use sb_channels::{Button, Outgoing, OutgoingFile};
use sb_domain::action::ActionState;
use sb_domain::{Author, ChannelKind, Message, Timestamp};
use sb_secrets::Secret;
use sb_store::{ChannelThread, StoredChannel};

use super::ChannelsService;
use super::email::{MailSender, MailThread};
use super::inbound::button_data;
use super::secrets::ChannelSecrets;
use crate::EngineError;

/// How often a node looks for replies to send.
pub const DELIVERY_TICK: Duration = Duration::from_millis(250);
/// Threads claimed at once.
const BATCH: u32 = 32;
/// How long a claim lasts: longer than sending a batch of messages takes.
const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);
/// How long a pass goes on sending: well within its claim, so no other node can take a
/// thread this one is still sending.
const WORK_WITHIN: Duration = Duration::from_secs(30);
/// Messages read per thread and pass.
const MESSAGES: u32 = 50;
/// WhatsApp's customer-service window: replies only this long after the customer wrote.
const WINDOW_HOURS: i64 = 24;
/// Waits before the next try of a failed send, by failures so far (the last one repeats).
const RETRY_AFTER_SECS: [i64; 6] = [2, 10, 60, 300, 1800, 3600];

impl ChannelsService {
    /// Sends what is due on every channel, until dropped.
    pub async fn run_deliveries(self: Arc<Self>) {
        let mut tick = tokio::time::interval(DELIVERY_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = self.deliver_due().await {
                tracing::warn!(error = %err, "could not send channel replies");
            }
        }
    }

    /// One pass: claims threads with replies to send and sends them; how many threads.
    pub async fn deliver_due(&self) -> Result<usize, EngineError> {
        let now = Timestamp::now();
        let until = now.checked_add(LEASE).unwrap_or(now);
        let by = &self.node;
        let threads = self.store.channels.claim_due_threads(now, until, by, BATCH).await?;
        let started = Instant::now();
        for thread in &threads {
            // Well within the claim: threads not reached are another pass's.
            if started.elapsed() < WORK_WITHIN
                && let Err(why) = self.deliver_thread(thread, started).await
            {
                let failures = (thread.attempts as usize).min(RETRY_AFTER_SECS.len() - 1);
                let wait = jiff::SignedDuration::from_secs(RETRY_AFTER_SECS[failures]);
                let next = Timestamp::now().checked_add(wait).unwrap_or(now);
                tracing::warn!(conversation = %thread.conversation_id, error = %why, "a channel reply was not sent");
                self.store.channels.mark_delivery_failed(thread, by, &why, next).await?;
            }
            self.store.channels.release_thread(thread, by).await?;
        }
        Ok(threads.len())
    }

    /// Sends the thread's messages after its mark, moving the mark after each one, for as
    /// long as the claim is this node's and well within its time.
    async fn deliver_thread(&self, thread: &ChannelThread, started: Instant) -> Result<(), String> {
        let (tenant, id) = (&thread.tenant_id, &thread.conversation_id);
        let stored = self.store.channels.get_channel(tenant, &thread.channel_id).await;
        let stored = stored.map_err(|e| e.to_string())?;
        let messages = self
            .store
            .conversations
            .list_messages(tenant, id, thread.delivered_seq, MESSAGES)
            .await
            .map_err(|e| e.to_string())?;
        let secrets = self.open_secrets(&stored).map_err(|e| e.to_string())?;
        let token = secrets.token(stored.channel.kind);
        let mut sender = Sender::of(&stored, &secrets)?;
        if let Sender::WhatsApp(settings) = &sender
            && outside_window(thread)
            && messages.iter().any(|m| outgoing(m).is_some())
        {
            return self.hold(thread, settings, &token).await;
        }
        let mail_thread =
            thread.reply_context.as_deref().and_then(|c| serde_json::from_str(c).ok());
        let mut sent = Ok(());
        for message in &messages {
            if started.elapsed() >= WORK_WITHIN {
                break;
            }
            if let Some(mut reply) = outgoing(message) {
                self.attach_files(thread, message, &mut reply).await;
                let to = match (&sender, &mail_thread) {
                    (Sender::Email(mail), Some(mail_thread)) => Recipient::Mail {
                        thread: mail_thread,
                        message_id: message_id(
                            &thread.thread_key,
                            message.seq,
                            mail.settings.domain(),
                        ),
                        automatic: message.author == Author::Bot,
                    },
                    (Sender::Email(_), None) => {
                        sent = Err("the conversation has no e-mail thread to answer in".to_owned());
                        break;
                    }
                    _ => Recipient::Chat(&thread.thread_key),
                };
                sent = self.send_reply(&mut sender, &token, &to, &reply).await;
                if sent.is_err() {
                    break;
                }
            }
            let marked = self.store.channels.mark_delivered(thread, &self.node, message.seq).await;
            if !marked.map_err(|e| e.to_string())? {
                break; // The claim is no longer ours.
            }
        }
        if let Sender::Email(mail) = &mut sender {
            mail.close().await;
        }
        sent
    }

    /// Sends one reply through `sender`; why not, with the token kept out.
    pub(super) async fn send_reply(
        &self,
        sender: &mut Sender,
        token: &Secret<String>,
        to: &Recipient<'_>,
        reply: &Outgoing,
    ) -> Result<(), String> {
        let (kind, requests) = match (&mut *sender, to) {
            (Sender::Email(mail), Recipient::Mail { thread, message_id, automatic }) => {
                let text = email_text(reply);
                let files: Vec<&OutgoingFile> = reply.files.iter().collect();
                let http = self.connector.http();
                let sent = mail.send(http, thread, message_id, &text, &files, *automatic).await;
                if sent.is_ok() || files.is_empty() {
                    return sent;
                }
                // Too large for the server, say: the reply goes without them, naming them.
                let (named, _) = reply.split_files(|_| false);
                let text = email_text(&Outgoing { text: named, ..reply.clone() });
                return mail.send(http, thread, message_id, &text, &[], *automatic).await;
            }
            (Sender::Telegram(settings), Recipient::Chat(chat)) => {
                (ChannelKind::Telegram, settings.send(token.expose(), chat, reply))
            }
            (Sender::WhatsApp(settings), Recipient::Chat(number)) => {
                (ChannelKind::Whatsapp, settings.send(token.expose(), number, reply))
            }
            _ => return Err("this channel cannot send there".to_owned()),
        };
        let scrub = |text: String| text.replace(token.expose().as_str(), "***");
        for request in requests.map_err(|e| scrub(e.to_string()))? {
            self.call(kind, token, Ok(request)).await?;
        }
        // The files go after the text, each on its own: one that cannot be sent (refused,
        // too large for the time allowed) is named in a note instead, and never holds up the
        // replies after it (the text already went out).
        for file in &reply.files {
            let sent = match (&*sender, to) {
                (Sender::Telegram(settings), Recipient::Chat(chat)) => {
                    let request = settings.file(token.expose(), chat, file);
                    self.call(kind, token, request).await.map(drop)
                }
                (Sender::WhatsApp(settings), Recipient::Chat(number))
                    if sb_channels::whatsapp::sends(file) =>
                {
                    self.whatsapp_media(settings, token, number, file).await
                }
                _ => continue,
            };
            if let Err(why) = sent {
                tracing::warn!(file = %file.name, error = %why, "a file was not sent through its channel");
                self.file_note(sender, token, to, &file.name).await;
            }
        }
        Ok(())
    }

    /// Tells the customer a file could not be sent (best effort: the reply went out already).
    async fn file_note(
        &self,
        sender: &Sender,
        token: &Secret<String>,
        to: &Recipient<'_>,
        name: &str,
    ) {
        let note = Outgoing { text: format!("[file not sent: {name}]"), ..Outgoing::default() };
        let (kind, requests) = match (sender, to) {
            (Sender::Telegram(settings), Recipient::Chat(chat)) => {
                (ChannelKind::Telegram, settings.send(token.expose(), chat, &note))
            }
            (Sender::WhatsApp(settings), Recipient::Chat(number)) => {
                (ChannelKind::Whatsapp, settings.send(token.expose(), number, &note))
            }
            _ => return,
        };
        for request in requests.unwrap_or_default() {
            let _ = self.call(kind, token, Ok(request)).await;
        }
    }

    /// WhatsApp shows a file once it is uploaded: two steps.
    async fn whatsapp_media(
        &self,
        settings: &WhatsAppSettings,
        token: &Secret<String>,
        number: &str,
        file: &OutgoingFile,
    ) -> Result<(), String> {
        let kind = ChannelKind::Whatsapp;
        let uploaded = self.call(kind, token, settings.upload_media(token.expose(), file)).await?;
        let id = uploaded["id"].as_str().ok_or("WhatsApp's upload answer names no media id")?;
        let message = settings.media_message(token.expose(), number, file, id);
        self.call(kind, token, message).await.map(drop)
    }

    /// Reads the files `message` was sent with into `reply`; one that cannot be read (erased
    /// since, say) is named in the text instead of holding up the replies.
    async fn attach_files(&self, thread: &ChannelThread, message: &Message, reply: &mut Outgoing) {
        let (tenant, conversation) = (&thread.tenant_id, &thread.conversation_id);
        for listed in &message.attachments {
            match self.store.attachments.attachment(tenant, conversation, &listed.id).await {
                Ok((file, bytes)) => reply.files.push(OutgoingFile {
                    name: file.name,
                    content_type: file.content_type,
                    bytes,
                }),
                Err(err) => {
                    tracing::warn!(conversation = %conversation, file = %listed.name, error = %err, "a file of a reply could not be read");
                    let note = format!("[file not available: {}]", listed.name);
                    reply.text = [reply.text.trim(), note.as_str()].join("\n").trim().to_owned();
                }
            }
        }
    }

    /// Outside WhatsApp's 24-hour window: the replies wait for the customer's next message,
    /// and the channel's template (when it has one) goes out once to ask for it.
    async fn hold(
        &self,
        thread: &ChannelThread,
        settings: &WhatsAppSettings,
        token: &Secret<String>,
    ) -> Result<(), String> {
        let mut sent_at = thread.template_sent_at;
        let already = sent_at.is_some_and(|at| at > thread.last_inbound_at);
        if !already
            && let Some(request) = settings.template_message(token.expose(), &thread.thread_key)
        {
            self.call(ChannelKind::Whatsapp, token, request).await?;
            sent_at = Some(Timestamp::now());
        }
        // The customer's message makes the thread due again; until then, a look each day.
        let until = Timestamp::now().checked_add(jiff::SignedDuration::from_hours(24));
        let until = until.unwrap_or_else(|_| Timestamp::now());
        let held = self.store.channels.hold_thread(thread, &self.node, sent_at, until).await;
        held.map_err(|e| e.to_string())
    }
}

/// Who sends a channel's replies, with its settings read.
pub(super) enum Sender {
    Telegram(TelegramSettings),
    WhatsApp(WhatsAppSettings),
    Email(Box<MailSender>),
}

/// Where a reply goes: a chat (a Telegram chat id, a WhatsApp number), or an e-mail thread as
/// one of its messages.
pub(super) enum Recipient<'a> {
    Chat(&'a str),
    Mail { thread: &'a MailThread, message_id: String, automatic: bool },
}

impl Sender {
    pub(super) fn of(stored: &StoredChannel, secrets: &ChannelSecrets) -> Result<Self, String> {
        let settings = &stored.channel.settings;
        let invalid = |e: sb_domain::ValidationError| e.to_string();
        match stored.channel.kind {
            ChannelKind::Telegram => {
                Ok(Self::Telegram(TelegramSettings::parse(settings).map_err(invalid)?.0))
            }
            ChannelKind::Whatsapp => {
                Ok(Self::WhatsApp(WhatsAppSettings::parse(settings).map_err(invalid)?.0))
            }
            ChannelKind::Email => {
                let (email, _) = EmailSettings::parse(settings).map_err(invalid)?;
                let sender = MailSender::new(email, &stored.channel.name, &secrets.smtp_password);
                Ok(Self::Email(Box::new(sender)))
            }
            ChannelKind::Widget => Err("the widget's replies are not sent".to_owned()),
        }
    }
}

/// A reply as e-mail shows it: buttons cannot be pressed in a message, so the reply says what
/// to answer instead (`CONFIRM` or `CANCEL`, read in `email/`).
fn email_text(reply: &Outgoing) -> String {
    if reply.buttons.is_empty() {
        return reply.text.clone();
    }
    format!("{}\n\nReply CONFIRM to go ahead, or CANCEL to stop.", reply.text.trim_end())
}

/// Whether the customer last wrote more than 24 hours ago: WhatsApp then takes only templates.
fn outside_window(thread: &ChannelThread) -> bool {
    Timestamp::now().duration_since(thread.last_inbound_at)
        > jiff::SignedDuration::from_hours(WINDOW_HOURS)
}

/// What the customer is sent of `message`: the assistant's and the people's replies (not their
/// own words, not system lines), with an action's Confirm and Cancel while it waits for them.
fn outgoing(message: &Message) -> Option<Outgoing> {
    if !matches!(message.author, Author::Bot | Author::Operator) {
        return None;
    }
    let mut buttons = Vec::new();
    if let Some(card) = &message.action
        && card.state == ActionState::Pending
        && card.needs.iter().any(|n| n == "visitor")
    {
        buttons.push(Button { label: "Confirm".into(), data: button_data(&card.id, true) });
        buttons.push(Button { label: "Cancel".into(), data: button_data(&card.id, false) });
    }
    // A person's reply goes in the customer's language when it was translated for them.
    let text = match (&message.translation, message.author) {
        (Some(translation), Author::Operator) => translation.text.clone(),
        _ => message.text.clone(),
    };
    // The files themselves are read when the reply is sent (`files_of`).
    let something =
        !text.trim().is_empty() || !buttons.is_empty() || !message.attachments.is_empty();
    something.then_some(Outgoing { text, buttons, files: Vec::new() })
}
