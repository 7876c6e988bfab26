package ledger

// Dump is a whole store but its entries, which are streamed: what purse migrate
// copies from one store into another.
type Dump struct {
	Accounts    []Account
	Holds       []Hold
	Charges     []Charge
	Users       []User
	APIKeys     []APIKey
	Idempotency []IdempotencyRecord
	Settings    map[string]string
}
