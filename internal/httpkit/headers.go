package httpkit

import "net/http"

// singleHeaders are the request headers that must come at most once. Two
// Authorization headers leave it to chance (or to whichever proxy reorders them)
// which credential is checked; two Idempotency-Keys leave it open which request a
// retry repeats. net/http keeps every line, and Header.Get reads the first.
var singleHeaders = [...]string{"Authorization", "Idempotency-Key"}

// RepeatedHeader returns the first of Authorization and Idempotency-Key that h
// carries more than once (as separate header lines), or "" when none is repeated.
func RepeatedHeader(h http.Header) string {
	for _, name := range singleHeaders {
		if len(h[name]) > 1 {
			return name
		}
	}
	return ""
}

// RepeatedHeaderError is the refusal of a request that repeats a header that
// must come once, as a FieldError naming the header.
func RepeatedHeaderError(name string) *FieldError {
	return &FieldError{Field: name, Reason: "is sent more than once; send it once"}
}
