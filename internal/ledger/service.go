package ledger

// ServiceSMS is the service type of an account's free messages. Infobip's
// total-balance reports free messages per service type ({"SMS": 3}); purse keeps
// one counter, Account.FreeMessages, and it counts SMS messages. One type because
// a charge carries no service type, so the ledger has nothing to choose a counter
// by; the team named the one counter SMS (issue #14), the messages a prepaid
// messaging account is usually given free. A second type would need a counter of
// its own and a service type on charges, not a second name for this counter.
const ServiceSMS = "SMS"
