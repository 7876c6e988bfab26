package adminapi

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchBodies are the bodies the hot routes receive: plain ones (the fast path)
// and ones with metadata (encoding/json and the strict checks).
func benchBodies() map[string][]byte {
	var plain, meta strings.Builder
	plain.WriteString(`{"atomic":false,"operations":[`)
	meta.WriteString(`{"atomic":false,"operations":[`)
	for i := range 1000 {
		if i > 0 {
			plain.WriteByte(',')
			meta.WriteByte(',')
		}
		fmt.Fprintf(&plain, `{"op":"charge","accountId":"acc_%06d","amount":"0.0125","reference":"sms-%d"}`, i%50, i)
		fmt.Fprintf(&meta, `{"op":"charge","accountId":"acc_%06d","amount":"0.0125","reference":"sms-%d","metadata":{"campaign":"spring","to":"+4915112345%03d"}}`, i%50, i, i%1000)
	}
	plain.WriteString(`]}`)
	meta.WriteString(`]}`)
	return map[string][]byte{
		"charge":             []byte(`{"amount":"0.0125","reference":"sms-42"}`),
		"charge_metadata":    []byte(`{"amount":"0.0125","reference":"sms-42","metadata":{"campaign":"spring","to":"+491511234567"}}`),
		"batch1000":          []byte(plain.String()),
		"batch1000_metadata": []byte(meta.String()),
	}
}

// BenchmarkDecode reads the hot routes' bodies as decodeLimit does for a request:
// the figures to compare before and after a change to the decoders.
func BenchmarkDecode(b *testing.B) {
	bodies := benchBodies()
	for _, name := range []string{"charge", "charge_metadata", "batch1000", "batch1000_metadata"} {
		body := bodies[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.Header.Set("Content-Type", "application/json")
			for b.Loop() {
				r.Body = httpNoBody(body)
				r.ContentLength = int64(len(body))
				var err error
				if strings.HasPrefix(name, "batch") {
					var req batchRequest
					_, err = decodeLimit(r, &req, MaxBatchBodyBytes)
				} else {
					var req chargeRequest
					_, err = decodeLimit(r, &req, 64<<10)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func httpNoBody(b []byte) readCloser { return readCloser{bytes.NewReader(b)} }
