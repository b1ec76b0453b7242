-- E-mail channels. What a reply needs to land in the customer's thread (their address, the
-- subject, the Message-IDs it answers) is kept with the conversation's thread.
ALTER TABLE channel_threads ADD COLUMN reply_context TEXT;
-- Which thread a received message belongs to: a customer's mail answering their own earlier
-- mail (not a reply of ours) finds its conversation by that mail's Message-ID.
ALTER TABLE channel_inbound ADD COLUMN thread_key TEXT;
-- What a channel's inbound side last saw and how it went: an IMAP mailbox's UIDVALIDITY and last
-- UID taken, when it was last reached, and its last error.
ALTER TABLE channels ADD COLUMN inbound_state TEXT;
