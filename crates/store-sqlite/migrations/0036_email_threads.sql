-- E-mail channels. What a reply needs to land in the customer's thread (their address, the
-- subject, the Message-IDs it answers) is kept with the conversation's thread.
ALTER TABLE channel_threads ADD COLUMN reply_context TEXT;
-- Which thread a received message belongs to: a customer's mail answering their own earlier
-- mail (not a reply of ours) finds its conversation by that mail's Message-ID.
ALTER TABLE channel_inbound ADD COLUMN thread_key TEXT;
-- When a received item was taken into its conversation. Noted but not taken (a node that died
-- or was stopped in between) for a while, the item may be taken again by the next delivery.
ALTER TABLE channel_inbound ADD COLUMN taken_at INTEGER;
-- What a channel's inbound side last saw and how it went: an IMAP mailbox's UIDVALIDITY and last
-- UID taken, when it was last reached, and its last error.
ALTER TABLE channels ADD COLUMN inbound_state TEXT;
-- Raised when the inbound side starts afresh (another mailbox, another bot): a watcher still
-- writing the old place's cursor (on another node, for a moment) writes nothing.
ALTER TABLE channels ADD COLUMN inbound_generation INTEGER NOT NULL DEFAULT 0;
-- The node watching the channel's inbound side (an IMAP mailbox), until when: one at a time, so
-- the cursor in inbound_state has one writer.
ALTER TABLE channels ADD COLUMN inbound_locked_by TEXT;
ALTER TABLE channels ADD COLUMN inbound_locked_until INTEGER;
