-- Who holds a channel thread's claim: every write of a delivery pass names it, so a node whose
-- claim ran out (and was taken by another) changes nothing.
ALTER TABLE channel_threads ADD COLUMN locked_by TEXT;
