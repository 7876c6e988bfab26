package adminapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/purse-ledger/purse/internal/httpkit"
)

// viaEncodingJSON decodes body as decodeLimit does without the fast path:
// encoding/json, then the strict checks (repeated and case-variant keys, UTF-8).
func viaEncodingJSON(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if dec.More() {
		return errMore
	}
	return httpkit.CheckJSON(body, dst, false)
}

var errMore = &json.SyntaxError{}

// agreeAs checks one body read as a T: wherever the fast path reads it,
// encoding/json must accept it and read the same value; where the fast path gives
// up, it must leave the value as it was.
func agreeAs[T any, P interface {
	*T
	fastDecoder
}](t *testing.T, body []byte) bool {
	t.Helper()
	var fast, viaJSON, zero T
	if !P(&fast).decodeFast(body) {
		if !reflect.DeepEqual(fast, zero) {
			t.Fatalf("fast path gave up on %q but changed the %T: %#v", body, fast, fast)
		}
		return false
	}
	if err := viaEncodingJSON(body, &viaJSON); err != nil {
		t.Fatalf("fast path read a %T encoding/json refuses (%v): %q", fast, err, body)
	}
	if !reflect.DeepEqual(fast, viaJSON) {
		t.Fatalf("%T read differently:\nfast %#v\njson %#v\nbody %q", fast, fast, viaJSON, body)
	}
	return true
}

// agree checks one body as both request types.
func agree(t *testing.T, body []byte) (fastBatch, fastCharge bool) {
	t.Helper()
	return agreeAs[batchRequest](t, body), agreeAs[chargeRequest](t, body)
}

var fastDecodeSeeds = []string{
	`{"amount":"0.000001"}`,
	`{"amount":"1","serviceType":"VOICE","useFreeMessage":true}`,
	`{"operations":[{"op":"charge","accountId":"a","amount":"1","serviceType":"SMS"}]}`,
	` { "amount" : "12.5", "reference" : "sms 42", "useFreeMessage" : true, "fallbackToMoney" : false } `,
	`{"atomic":true,"operations":[{"op":"charge","accountId":"acc_1","amount":"1"},{"op":"refund","accountId":"acc_1","chargeId":"chg_1"}]}`,
	`{"operations":[{"op":"hold","accountId":"a","amount":"1","expiresIn":"1m"}]}`,
	`{"operations":[{"op":"top_up","accountId":"a","amount":"1","metadata":{"k":"v"}}]}`,
	`{"operations":[{"op":"transfer","from":"acc_1","to":"acc_2","amount":"1","reference":"r"}]}`,
	`{"operations":[{"op":"transfer","from":"acc_1","to":"acc_2","from":"acc_3","amount":"1"}]}`,
	`{"operations":[]}`,
	`{"operations":[{}],"atomic":false}`,
	`{}`,
	`{"amount":"1","amount":"2"}`,
	`{"Amount":"1"}`,
	`{"amount":null}`,
	`{"amount":1}`,
	`{"amount":"caf\u00e9"}`,
	`{"amount":"tab	"}`,
	`{"amount":"1"} {"amount":"2"}`,
	`{"amount":"1"}x`,
	`{"amount":"1",}`,
	`{"useFreeMessage":tru}`,
	`{"useFreeMessage":truex}`,
	`{"operations":[{"op":"charge"},]}`,
	`{"operations":[{"op":"void","holdId":"h","reason":"r","accountId":"a","amount":"1","reference":"x","chargeId":"c","useFreeMessage":true,"fallbackToMoney":true}]}`,
	`[]`,
	``,
	`{"atomic":true,"operations":[{"op":"charge","accountId":"acc_1","amount":"1"}],"atomic":false}`,
	`{"AMOUNT":"1"}`,
	`{"operations":[{"op":"charge","Amount":"1"}]}`,
	`{"operations":[{"op":"charge","amount":"1","amount":"1000"}]}`,
	`{"amount":"1","metadata":{"a":"1","a":"2"}}`,
	"{\"amount\":\"1\",\"reference\":\"caf\xe9\"}",
	`{"amount":"1","reference":"\ud800"}`,
	`{"amount":"1"}]`,
}

// TestFastDecodeMatchesEncodingJSON: the plain bodies take the fast path, and
// every body the fast path reads, encoding/json reads the same way.
func TestFastDecodeMatchesEncodingJSON(t *testing.T) {
	fast := 0
	for _, s := range fastDecodeSeeds {
		b, c := agree(t, []byte(s))
		if b || c {
			fast++
		}
	}
	for _, s := range []string{fastDecodeSeeds[0], fastDecodeSeeds[1]} {
		if _, c := agree(t, []byte(s)); !c {
			t.Errorf("a plain charge body missed the fast path: %s", s)
		}
	}
	if b, _ := agree(t, []byte(fastDecodeSeeds[2])); !b {
		t.Errorf("a plain batch body missed the fast path")
	}
	if fast < 6 {
		t.Errorf("only %d of the seeds took the fast path", fast)
	}
}

func FuzzFastDecodeMatchesEncodingJSON(f *testing.F) {
	for _, s := range fastDecodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { agree(t, body) })
}
