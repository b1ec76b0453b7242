//! One queue per conversation: its messages are handled one at a time, in order, while other
//! conversations proceed in parallel — a slow backend in one never holds up another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sb_domain::{ActionId, ConversationId, Message, TenantId};
use tokio::sync::{mpsc, oneshot};

use super::ConversationsService;

/// A worker with nothing to do for this long ends; the next message starts a new one.
const IDLE: Duration = Duration::from_secs(30);

pub(crate) struct Job {
    pub tenant: TenantId,
    /// The visitor message to handle; for an agreed action, the message that proposed it.
    pub message: Message,
    /// An action agreed to or refused: its call (or refusal) is what this job runs.
    pub action: Option<ActionId>,
    /// Told when the engine has finished with the message: its replies as stored, or `None`
    /// when they are not at hand (another node handled it, or they could not be stored).
    pub done: Option<oneshot::Sender<Option<Vec<Message>>>>,
}

#[derive(Default)]
pub(crate) struct Workers {
    queues: Mutex<HashMap<ConversationId, mpsc::UnboundedSender<Job>>>,
}

impl Workers {
    /// Queues `job` behind the conversation's earlier messages, starting a worker if none runs.
    pub(crate) fn enqueue(&self, engine: &Arc<ConversationsService>, job: Job) {
        let conversation = job.message.conversation_id.clone();
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let job = match queues.get(&conversation) {
            Some(sender) => match sender.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        sender.send(job).ok();
        queues.insert(conversation.clone(), sender);
        tokio::spawn(run(engine.clone(), conversation, receiver));
    }

    /// Ends the queue if it is still empty. Runs under the lock that `enqueue` takes, so no job
    /// can slip into a queue that is going away.
    fn retire(
        &self,
        conversation: &ConversationId,
        receiver: &mut mpsc::UnboundedReceiver<Job>,
    ) -> Option<Job> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        match receiver.try_recv() {
            Ok(job) => Some(job),
            Err(_) => {
                queues.remove(conversation);
                None
            }
        }
    }
}

async fn run(
    engine: Arc<ConversationsService>,
    conversation: ConversationId,
    mut receiver: mpsc::UnboundedReceiver<Job>,
) {
    loop {
        let job = match tokio::time::timeout(IDLE, receiver.recv()).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(_) => match engine.workers.retire(&conversation, &mut receiver) {
                Some(job) => job,
                None => return,
            },
        };
        let replies = match &job.action {
            Some(action) => engine.settle_in_order(&job.tenant, &job.message, action).await,
            None => engine.handle_in_order(&job.tenant, &job.message).await,
        };
        if let Some(done) = job.done {
            done.send(replies).ok();
        }
    }
}
