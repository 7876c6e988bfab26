-- A rotated signing secret's predecessor (ledger.Subscription.PreviousSecret):
-- deliveries are signed with it too until previous_until (micros; 0: none).
ALTER TABLE subscriptions ADD COLUMN previous_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN previous_until INTEGER NOT NULL DEFAULT 0;
