-- WhatsApp's 24-hour customer-service window: when the channel's approved template went to a
-- thread whose replies wait for the customer to write again (one template per silence).
ALTER TABLE channel_threads ADD COLUMN template_sent_at BIGINT;
