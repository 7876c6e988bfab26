package infobipapi

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/purse-ledger/purse/internal/httpkit"
	"github.com/purse-ledger/purse/internal/ledger"
)

// The rest of Infobip's account family: total balance and free messages. Same
// credentials, scope and errors as /account/1/balance.

// fullAccount authenticates and returns the caller's whole committed account.
func (a *API) fullAccount(w http.ResponseWriter, r *http.Request) (ledger.Account, error) {
	p, err := a.principal(w, r)
	if err != nil {
		return ledger.Account{}, err
	}
	if err := a.balances.Fresh(); err != nil {
		return ledger.Account{}, err
	}
	acc, ok := a.balances.Account(p.AccountID)
	if !ok {
		return acc, errAccountNotPresent
	}
	if acc.Status != ledger.StatusActive {
		return acc, errAccountNotActive
	}
	return acc, nil
}

type currencyJSON struct {
	Code         string `json:"code" xml:"code"`
	CurrencyName string `json:"currencyName" xml:"currencyName"`
	Symbol       string `json:"symbol" xml:"symbol"`
}

// totalBalanceJSON keeps Infobip's field names and order. Amounts are raw JSON
// numbers rendered from the exact decimal. monthlyBalance is what is left of the
// monthly limit this month; both are null when the account has no monthly limit.
type totalBalanceJSON struct {
	Balance        json.RawMessage `json:"balance"`
	AllowedMinus   json.RawMessage `json:"allowedMinus"`
	MonthlyLimit   json.RawMessage `json:"monthlyLimit"`
	MonthlyBalance json.RawMessage `json:"monthlyBalance"`
	Currency       currencyJSON    `json:"currency"`
	FreeMessages   int64           `json:"freeMessages"`
}

type totalBalanceXML struct {
	XMLName        xml.Name     `xml:"totalBalance"`
	Balance        string       `xml:"balance"`
	AllowedMinus   string       `xml:"allowedMinus"`
	MonthlyLimit   string       `xml:"monthlyLimit,omitempty"`
	MonthlyBalance string       `xml:"monthlyBalance,omitempty"`
	Currency       currencyJSON `xml:"currency"`
	FreeMessages   int64        `xml:"freeMessages"`
}

func (a *API) totalBalance(w http.ResponseWriter, r *http.Request, f httpkit.Format) {
	acc, err := a.fullAccount(w, r)
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	cur, _ := ledger.LookupCurrency(acc.Currency)
	c := currencyJSON{Code: cur.Code, CurrencyName: cur.Name, Symbol: cur.Symbol}
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
			MonthlyLimit: limit, MonthlyBalance: monthly, Currency: c, FreeMessages: acc.FreeMessages})
	} else {
		body, err = json.Marshal(totalBalanceJSON{Balance: raw(acc.Balance.String()), AllowedMinus: raw(acc.AllowedMinus.String()),
			MonthlyLimit: rawOrNull(limit), MonthlyBalance: rawOrNull(monthly), Currency: c, FreeMessages: acc.FreeMessages})
	}
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	httpkit.Write(w, f, http.StatusOK, body)
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func rawOrNull(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

// freeMessages is GET /account/1/free-messages: {"remainingCount": n}.
func (a *API) freeMessages(w http.ResponseWriter, r *http.Request, f httpkit.Format) {
	acc, err := a.fullAccount(w, r)
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
