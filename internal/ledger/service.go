package ledger

// Service types: what a charge pays for, as Infobip names its channels. A charge
// names one (SMS when it names none); its free messages come from that type's
// counter.
//
// ServiceSMS is the only type with a counter: Account.FreeMessages counts SMS
// messages, and Infobip's total-balance reports it as {"SMS": n}. The team chose
// one counter (issue #14): free messages are what a prepaid messaging account is
// usually given, and a counter per type would be a schema change for every store
// with nobody asking for it yet. A charge of another type that asks for a free
// message finds none: it pays money, or is refused NO_FREE_MESSAGES without a
// fallback. A second counter would be a new column, not a second name for this one.
const (
	ServiceSMS      = "SMS"
	ServiceVoice    = "VOICE"
	ServiceViber    = "VIBER"
	ServiceWhatsApp = "WHATSAPP"
	ServiceEmail    = "EMAIL"
)

// ServiceTypes lists the service types a charge may name.
var ServiceTypes = []string{ServiceSMS, ServiceVoice, ServiceViber, ServiceWhatsApp, ServiceEmail}

// ValidServiceType reports whether s is one of ServiceTypes.
func ValidServiceType(s string) bool {
	for _, t := range ServiceTypes {
		if s == t {
			return true
		}
	}
	return false
}
