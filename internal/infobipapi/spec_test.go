package infobipapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/purse-ledger/purse/internal/testkit"
)

// specFile is Infobip's OpenAPI document for the account family. It lives in
// shared/, beside the repository rather than in it (it is Infobip's, not ours):
// ../shared/infobip/ from the module root, both in a developer's checkout and in
// CI's fresh clone.
const specFile = "infobip-account-management-openapi.json"

var spec struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

func moduleRoot(t *testing.T) string { return testkit.ModuleRoot(t) }

// loadSpec loads and validates Infobip's document once per test binary. Without
// the file a developer's run skips, but CI (CI=true) fails: there the file is
// always laid beside the clone, so its absence means the check silently stopped.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	path := filepath.Join(moduleRoot(t), "..", "shared", "infobip", specFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Infobip's OpenAPI document is missing at %s (CI lays shared/ beside the repository)", path)
		}
		t.Skipf("Infobip's OpenAPI document is not at %s", path)
	}
	spec.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromFile(path)
		if err == nil {
			// kin-openapi's validators assume a document that passed Validate.
			// Its examples are left out: Infobip gives its XML examples as strings
			// under schemas of objects, which says nothing about the schemas.
			err = doc.Validate(context.Background(), openapi3.DisableExamplesValidation())
		}
		spec.doc, spec.err = doc, err
	})
	if spec.err != nil {
		t.Fatalf("loading %s: %v", path, spec.err)
	}
	return spec.doc
}

// validateResponse checks a response (status, Content-Type, body) against the
// operation the spec documents for method and path, with kin-openapi's response
// validator; for this OpenAPI 3.1 document it validates bodies as JSON Schema
// 2020-12, where a number is never null.
func validateResponse(t *testing.T, doc *openapi3.T, method, path string, status int, header http.Header, body []byte) error {
	t.Helper()
	item := doc.Paths.Find(path)
	if item == nil {
		t.Fatalf("the spec has no path %s", path)
	}
	op := item.GetOperation(method)
	if op == nil {
		t.Fatalf("the spec has no %s %s", method, path)
	}
	req, err := http.NewRequest(method, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// TestResponsesMatchSpec validates real JSON responses of the account family
// against Infobip's own OpenAPI document, so a body that drifts from it (a number
// rendered as null, a count where the spec has a map) fails here even when the
// golden file was updated along with it.
func TestResponsesMatchSpec(t *testing.T) {
	doc := loadSpec(t)
	f := newFixture(t)
	tests := []struct {
		name   string
		path   string
		header map[string]string
		status int
	}{
		{"total-balance with a monthly limit", "/account/1/total-balance", map[string]string{"Authorization": docAuth}, 200},
		{"total-balance without a monthly limit", "/account/1/total-balance", map[string]string{"Authorization": basic("plain", "password1")}, 200},
		{"free-messages", "/account/1/free-messages", map[string]string{"Authorization": docAuth}, 200},
		{"balance", "/account/1/balance", map[string]string{"Authorization": docAuth}, 200},
		{"total-balance 401", "/account/1/total-balance", nil, 401},
		{"total-balance 403", "/account/1/total-balance", map[string]string{"Authorization": "App " + f.scopelessKey}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testkit.Do(t, "GET", f.Public.URL+tt.path, tt.header, nil)
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d (%s)", r.Status, tt.status, r.Body)
			}
			if err := validateResponse(t, doc, "GET", tt.path, r.Status, r.Header, r.Body); err != nil {
				t.Errorf("response does not match the spec: %v\nbody: %s", err, r.Body)
			}
		})
	}
}

// TestSpecRejectsOldTotalBalance proves the validator above has teeth: the bodies
// purse sent before it followed BalanceInfoResponse must fail it.
func TestSpecRejectsOldTotalBalance(t *testing.T) {
	doc := loadSpec(t)
	header := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name string
		body string
	}{
		{"freeMessages a number", `{"balance":47.79134,"allowedMinus":5,"monthlyLimit":100,"monthlyBalance":100,"currency":{"id":978,"code":"EUR","currencyName":"Euro","symbol":"€"},"freeMessages":3}`},
		{"monthly fields null", `{"balance":12.5,"allowedMinus":0,"monthlyLimit":null,"monthlyBalance":null,"currency":{"id":840,"code":"USD","currencyName":"US Dollar","symbol":"$"},"freeMessages":{"SMS":0}}`},
		{"the whole old shape", `{"balance":12.5,"allowedMinus":0,"monthlyLimit":null,"monthlyBalance":null,"currency":{"code":"USD","currencyName":"US Dollar","symbol":"$"},"freeMessages":3}`},
		{"currency id a string", `{"balance":1,"allowedMinus":0,"currency":{"id":"978","code":"EUR","currencyName":"Euro","symbol":"€"},"freeMessages":{"SMS":0}}`},
		{"free count not an integer", `{"balance":1,"allowedMinus":0,"currency":{"id":978,"code":"EUR","currencyName":"Euro","symbol":"€"},"freeMessages":{"SMS":1.5}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateResponse(t, doc, "GET", "/account/1/total-balance", 200, header, []byte(tt.body))
			if err == nil {
				t.Fatalf("the validator accepted %s", tt.body)
			}
			// Only the body may be wrong here, so a refusal for any other reason
			// (status, Content-Type) would prove nothing.
			var re *openapi3filter.ResponseError
			if !errors.As(err, &re) || !strings.HasPrefix(re.Reason, "response body doesn't match schema") {
				t.Errorf("refused for another reason than the body: %v", err)
			}
			t.Logf("refused: %v", err)
		})
	}
	// And the shape purse sends now passes the same call.
	now := `{"balance":12.5,"allowedMinus":0,"currency":{"id":840,"code":"USD","currencyName":"US Dollar","symbol":"$"},"freeMessages":{"SMS":0}}`
	if err := validateResponse(t, doc, "GET", "/account/1/total-balance", 200, header, []byte(now)); err != nil {
		t.Errorf("the validator rejected the current shape: %v", err)
	}
}
