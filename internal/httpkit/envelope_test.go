package httpkit

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestEncodeError(t *testing.T) {
	ex := ServiceException{MessageID: "BAD_REQUEST", Text: "Bad request", ValidationErrors: map[string][]string{"b": {"x <y>"}, "a": {"one", "two"}}}
	tests := []struct {
		f    Format
		ex   ServiceException
		want string
	}{
		{JSON, ServiceException{MessageID: "UNAUTHORIZED", Text: "Invalid login details"},
			`{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}`},
		{XML, ServiceException{MessageID: "UNAUTHORIZED", Text: "Invalid login details"},
			`<requestError><serviceException><messageId>UNAUTHORIZED</messageId><text>Invalid login details</text></serviceException></requestError>`},
		{JSON, ex, `{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":"Bad request","validationErrors":{"a":["one","two"],"b":["x \u003cy\u003e"]}}}}`},
		{XML, ex, `<requestError><serviceException><messageId>BAD_REQUEST</messageId><text>Bad request</text><validationErrors>` +
			`<field name="a"><message>one</message><message>two</message></field><field name="b"><message>x &lt;y&gt;</message></field></validationErrors></serviceException></requestError>`},
	}
	for _, tt := range tests {
		if got := string(EncodeError(tt.f, tt.ex)); got != tt.want {
			t.Errorf("EncodeError(%v)\n got %s\nwant %s", tt.f, got, tt.want)
		}
	}
}

// TestWriteContentLength: small and large bodies, GET and HEAD, all carry their
// exact Content-Length over a real connection (net/http sets it for small ones).
func TestWriteContentLength(t *testing.T) {
	for _, n := range []int{0, 37, smallBody, smallBody + 1, 10 * smallBody} {
		body := bytes.Repeat([]byte("x"), n)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			Write(w, JSON, http.StatusOK, body)
		}))
		for _, method := range []string{"GET", "HEAD"} {
			req, _ := http.NewRequest(method, srv.URL, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ContentLength != int64(n) || resp.Header.Get("Content-Length") != strconv.Itoa(n) || len(resp.TransferEncoding) > 0 {
				t.Errorf("%s of %d bytes: Content-Length %q (%d), Transfer-Encoding %v", method, n, resp.Header.Get("Content-Length"), resp.ContentLength, resp.TransferEncoding)
			}
			if method == "GET" && !bytes.Equal(got, body) {
				t.Errorf("GET of %d bytes: got %d bytes", n, len(got))
			}
		}
		srv.Close()
	}
}
