package infobipapi

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"sort"
	"strconv"

	"github.com/purse-ledger/purse/internal/auth"
	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// The rest of Infobip's account family: total balance and free messages. Same
// credentials, scope and errors as /account/1/balance.

// fullAccount returns the whole committed account the caller draws on: its own,
// or a shared sub-account's parent's.
func (a *API) fullAccount(p auth.Principal) (ledger.Account, error) {
	acc, err := a.callerAccount(p)
	if err != nil || acc.Funding != ledger.FundingShared {
		return acc, err
	}
	parent, ok := a.balances.Account(acc.ParentID)
	if !ok {
		return acc, errAccountNotPresent
	}
	if parent.Status != ledger.StatusActive {
		return acc, errAccountNotActive
	}
	return parent, nil
}

// callerAccount returns the caller's own committed account, refused when it is
// not active or its parent disabled it.
func (a *API) callerAccount(p auth.Principal) (ledger.Account, error) {
	if err := a.balances.Fresh(); err != nil {
		return ledger.Account{}, err
	}
	acc, ok := a.balances.Account(p.AccountID)
	switch {
	case !ok:
		return acc, errAccountNotPresent
	case acc.Disabled:
		return acc, errAccountDisabled
	case acc.Status != ledger.StatusActive:
		return acc, errAccountNotActive
	}
	return acc, nil
}

// currencyJSON is the spec's SimpleCurrencyInfo. id is the ISO 4217 numeric code
// (EUR is 978): Infobip documents only "integer", and the numeric code is the one
// integer every client can already map to the currency.
type currencyJSON struct {
	ID           int    `json:"id" xml:"id"`
	Code         string `json:"code" xml:"code"`
	CurrencyName string `json:"currencyName" xml:"currencyName"`
	Symbol       string `json:"symbol" xml:"symbol"`
}

// freeMessagesByService is BalanceInfoResponse's freeMessages: service type ->
// remaining count. purse keeps one counter, the account's SMS free messages
// (ledger.ServiceSMS), so it always has exactly that one key. Counts fit the
// spec's int32: the engine caps a grant at a billion.
type freeMessagesByService map[string]int64

// MarshalXML writes the map in the shape a map naturally takes in XML, the one
// Jackson's XmlMapper gives a Java Map: an element per key, named by the key,
// holding the count: <freeMessages><SMS>3</SMS></freeMessages>. Keys are sorted
// so the body is stable. Service types are plain upper-case names, valid XML
// element names.
func (m freeMessagesByService) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, k := range keys {
		if err := e.EncodeElement(m[k], xml.StartElement{Name: xml.Name{Local: k}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// totalBalanceJSON is the spec's BalanceInfoResponse, in its field order. Amounts
// are raw JSON numbers rendered from the exact decimal. monthlyBalance is what is
// left of the monthly limit this month. The spec types monthlyLimit and
// monthlyBalance as numbers, not nullable, so an account without a monthly limit
// omits both rather than sending null (which a strict client would reject) or 0
// (which would read as "nothing may be spent").
type totalBalanceJSON struct {
	Balance        json.RawMessage       `json:"balance"`
	AllowedMinus   json.RawMessage       `json:"allowedMinus"`
	MonthlyLimit   json.RawMessage       `json:"monthlyLimit,omitempty"`
	MonthlyBalance json.RawMessage       `json:"monthlyBalance,omitempty"`
	Currency       currencyJSON          `json:"currency"`
	FreeMessages   freeMessagesByService `json:"freeMessages"`
}

// totalBalanceXML follows the JSON shape element for element, omitting the same
// two fields without a monthly limit.
type totalBalanceXML struct {
	XMLName        xml.Name              `xml:"totalBalance"`
	Balance        string                `xml:"balance"`
	AllowedMinus   string                `xml:"allowedMinus"`
	MonthlyLimit   string                `xml:"monthlyLimit,omitempty"`
	MonthlyBalance string                `xml:"monthlyBalance,omitempty"`
	Currency       currencyJSON          `xml:"currency"`
	FreeMessages   freeMessagesByService `xml:"freeMessages"`
}

func (a *API) totalBalance(w http.ResponseWriter, r *http.Request, x *exchange) {
	f := x.f
	acc, err := a.fullAccount(x.p)
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	cur, _ := ledger.LookupCurrency(acc.Currency)
	c := currencyJSON{ID: cur.Numeric, Code: cur.Code, CurrencyName: cur.Name, Symbol: cur.Symbol}
	free := freeMessagesByService{ledger.ServiceSMS: acc.FreeMessages}
	limit, monthly := "", ""
	if acc.HasMonthlyLimit {
		room, err := acc.MonthlyLimit.Sub(acc.SpentIn(a.balances.Now()))
		if err != nil || room < 0 {
			room = 0
		}
		limit, monthly = acc.MonthlyLimit.String(), room.String()
	}
	var body []byte
	if f == httpkit.XML {
		body, err = xml.Marshal(totalBalanceXML{Balance: acc.Balance.String(), AllowedMinus: acc.AllowedMinus.String(),
			MonthlyLimit: limit, MonthlyBalance: monthly, Currency: c, FreeMessages: free})
	} else {
		body, err = json.Marshal(totalBalanceJSON{Balance: raw(acc.Balance.String()), AllowedMinus: raw(acc.AllowedMinus.String()),
			MonthlyLimit: rawOrAbsent(limit), MonthlyBalance: rawOrAbsent(monthly), Currency: c, FreeMessages: free})
	}
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	httpkit.Write(w, f, http.StatusOK, body)
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// rawOrAbsent is nil for "", which omitempty then leaves out of the body.
func rawOrAbsent(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// freeMessages is GET /account/1/free-messages: {"remainingCount": n}, the SMS free
// messages left (ledger.ServiceSMS), the same count total-balance reports under
// freeMessages.SMS.
func (a *API) freeMessages(w http.ResponseWriter, r *http.Request, x *exchange) {
	f := x.f
	acc, err := a.fullAccount(x.p)
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	n := strconv.FormatInt(acc.FreeMessages, 10)
	if f == httpkit.XML {
		httpkit.Write(w, f, http.StatusOK, []byte("<freeMessages><remainingCount>"+n+"</remainingCount></freeMessages>"))
		return
	}
	httpkit.Write(w, f, http.StatusOK, []byte(`{"remainingCount":`+n+`}`))
}
