-- Accounts seeded by `purse serve --demo`. Their credentials are published in
-- Infobip's documentation (Aladdin / open sesame), so the store says which they are:
-- serve warns while one is active without --demo, and purse migrate leaves them out.
-- The only demo account so far is the documented one, acc_demo.
CREATE TABLE demo_accounts (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id)
);

INSERT INTO demo_accounts (account_id) SELECT id FROM accounts WHERE id = 'acc_demo';
