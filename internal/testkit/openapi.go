package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/purse-ledger/purse/docs/openapi"
)

// The OpenAPI check. Every exchange testkit.Do has with a listener of a Stack is
// validated against that listener's document (docs/openapi) by kin-openapi:
// the response always (status, headers, body as JSON Schema 2020-12), the request
// when purse accepted it (a 2xx: a request purse takes must be one the document
// allows; the tests send refused ones on purpose). A route, a status or a field
// the document lacks fails the test, so the documents cannot drift from the code.

// Document is one listener's OpenAPI document, loaded and validated.
type Document struct {
	Name   string // "admin" or "public"
	Doc    *openapi3.T
	router routers.Router
	public bool // paths are read as the public listener reads them
}

var docs struct {
	once          sync.Once
	admin, public *Document
	err           error
}

// Documents returns the admin and the public document, loaded once per test binary.
func Documents(t testing.TB) (admin, public *Document) {
	t.Helper()
	docs.once.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/xml", xmlBodyDecoder)
		docs.admin, docs.err = loadDocument("admin", openapi.Admin, false)
		if docs.err == nil {
			docs.public, docs.err = loadDocument("public", openapi.Public, true)
		}
	})
	if docs.err != nil {
		t.Fatalf("OpenAPI document: %v", docs.err)
	}
	return docs.admin, docs.public
}

func loadDocument(name string, b []byte, public bool) (*Document, error) {
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("%s.json: %w", name, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("%s.json: %w", name, err)
	}
	// The servers name purse serve's default addresses; a test's listener has
	// another port, so routes are found by path alone.
	doc.Servers = nil
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("%s.json: %w", name, err)
	}
	return &Document{Name: name, Doc: doc, router: r, public: public}, nil
}

// listeners maps a running Stack's base URL ("http://127.0.0.1:port") to its
// listener's document.
var listeners sync.Map

// watch validates every exchange with base against doc until the test ends.
func watch(t testing.TB, base string, doc *Document) {
	listeners.Store(base, doc)
	t.Cleanup(func() { listeners.CompareAndDelete(base, doc) })
}

// documentFor is the document of the listener rawURL talks to, or nil when it is
// not a Stack's.
func documentFor(rawURL string) *Document {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	d, ok := listeners.Load(u.Scheme + "://" + u.Host)
	if !ok {
		return nil
	}
	return d.(*Document)
}

// checkExchange fails the test when the exchange does not match the document of
// the listener it was sent to.
func checkExchange(t testing.TB, req *http.Request, body []byte, resp Response) {
	t.Helper()
	d := documentFor(req.URL.String())
	if d == nil {
		return
	}
	if err := d.Check(req, body, resp); err != nil {
		t.Fatalf("%s %s: the exchange does not match docs/openapi/%s.json: %v\nstatus %d, body %.2000s",
			req.Method, req.URL.RequestURI(), d.Name, err, resp.Status, resp.Body)
	}
}

// Check validates a request (with its body) and the response it got against the
// document.
func (d *Document) Check(req *http.Request, reqBody []byte, resp Response) error {
	probe := req.Clone(context.Background())
	probe.URL = &url.URL{Path: d.path(req.URL.Path), RawQuery: req.URL.RawQuery}
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := d.router.FindRoute(probe)
	if err != nil {
		// No operation for this method and path: the one answer allowed is the
		// error envelope of an unknown route or method, or of a request refused
		// before routing (a Host the admin listener does not answer).
		return d.checkUnrouted(resp, err)
	}
	if len(reqBody) > 0 && probe.Header.Get("Content-Type") == "" {
		// A document cannot say "no Content-Type"; purse reads such a body as the
		// one media type the operation takes (JSON on every route that reads JSON).
		if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil && len(rb.Value.Content) == 1 {
			for mt := range rb.Value.Content {
				probe.Header.Set("Content-Type", mt)
			}
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if resp.Status >= 200 && resp.Status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fmt.Errorf("purse accepted a request the document refuses: %w", err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.Status, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(resp.Body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if req.Method == http.MethodHead {
		out.Options.ExcludeResponseBody = true
	}
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// path is the path as the listener routes it. The public listener treats a run of
// slashes as one and reads a .json or .xml suffix as the format (docs/api.md), so
// /account//1/balance.xml is /account/1/balance there.
func (d *Document) path(p string) string {
	if !d.public {
		return p
	}
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if p == "/openapi.json" {
		return p
	}
	return strings.TrimSuffix(strings.TrimSuffix(p, ".json"), ".xml")
}

// checkUnrouted checks the answer to a request the document has no operation for.
func (d *Document) checkUnrouted(resp Response, routeErr error) error {
	switch resp.Status {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusMisdirectedRequest:
	default:
		return fmt.Errorf("no operation in the document (%v), and status %d is not an unknown route's", routeErr, resp.Status)
	}
	ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	schema := d.Doc.Components.Schemas["ApiException"]
	var v any
	var err error
	switch ct {
	case "application/json":
		err = json.Unmarshal(resp.Body, &v)
	case "application/xml":
		schema = d.Doc.Components.Schemas["ApiRequestError"]
		v, err = xmlBodyDecoder(bytes.NewReader(resp.Body), resp.Header, schema, nil)
	default:
		return fmt.Errorf("status %d with Content-Type %q, not the error envelope", resp.Status, ct)
	}
	if err != nil {
		return fmt.Errorf("status %d: %w", resp.Status, err)
	}
	if err := schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return fmt.Errorf("status %d: not the error envelope: %w", resp.Status, err)
	}
	return nil
}

// xmlNode is an element of an XML body.
type xmlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xmlNode  `xml:",any"`
	Text     string     `xml:",chardata"`
}

// xmlBodyDecoder reads an XML body into the value its JSON twin would be, guided by
// the schema (kin-openapi has no XML decoder): the root element must be the
// schema's xml.name, an object's properties are child elements, a map's keys are
// element names, numbers and booleans are parsed from text. A map of string arrays
// is the envelope's validationErrors, whose XML is
// <field name="amount"><message>…</message></field>.
func xmlBodyDecoder(body io.Reader, _ http.Header, schema *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	var root xmlNode
	if err := xml.NewDecoder(body).Decode(&root); err != nil {
		return nil, fmt.Errorf("not XML: %w", err)
	}
	if s := schema.Value; s.XML != nil && s.XML.Name != "" && root.XMLName.Local != s.XML.Name {
		return nil, fmt.Errorf("XML root element <%s>, want <%s>", root.XMLName.Local, s.XML.Name)
	}
	return xmlValue(root, schema), nil
}

func xmlValue(n xmlNode, ref *openapi3.SchemaRef) any {
	if ref == nil || ref.Value == nil {
		return n.Text
	}
	s := ref.Value
	switch {
	case s.Type.Is("object"):
		out := map[string]any{}
		ap := s.AdditionalProperties.Schema
		lists := xmlLists(s, out)
		for _, c := range n.Children {
			switch {
			case lists[c.XMLName.Local] != "":
				prop := lists[c.XMLName.Local]
				out[prop] = append(out[prop].([]any), xmlValue(c, s.Properties[prop].Value.Items))
			case s.Properties[c.XMLName.Local] != nil:
				out[c.XMLName.Local] = xmlValue(c, s.Properties[c.XMLName.Local])
			case ap != nil && ap.Value != nil && ap.Value.Type.Is("array") && c.XMLName.Local == "field":
				var msgs []any
				for _, m := range c.Children {
					msgs = append(msgs, m.Text)
				}
				out[attr(c, "name")] = msgs
			default:
				out[c.XMLName.Local] = xmlValue(c, ap)
			}
		}
		return out
	case s.Type.Is("array"):
		// A wrapped list: an element per item inside the list's element.
		out := []any{}
		for _, c := range n.Children {
			out = append(out, xmlValue(c, s.Items))
		}
		return out
	case s.Type.Is("number"), s.Type.Is("integer"):
		if f, err := strconv.ParseFloat(n.Text, 64); err == nil {
			return f
		}
	case s.Type.Is("boolean"):
		if b, err := strconv.ParseBool(n.Text); err == nil {
			return b
		}
	}
	return n.Text // a string, or text the schema's type refuses
}

// xmlLists maps the element name of each array property's items (their
// xml.name, else the property's name) to the property, and starts each list empty
// in out: an array is its items' elements repeated inside the object's element,
// without a wrapper (<accounts><account>…</account></accounts>).
func xmlLists(s *openapi3.Schema, out map[string]any) map[string]string {
	lists := map[string]string{}
	for name, p := range s.Properties {
		if p.Value == nil || !p.Value.Type.Is("array") || p.Value.Items == nil || p.Value.Items.Value == nil {
			continue
		}
		item := name
		if x := p.Value.Items.Value.XML; x != nil && x.Name != "" {
			item = x.Name
		}
		lists[item] = name
		out[name] = []any{}
	}
	return lists
}

func attr(n xmlNode, name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// errNoDocument is returned by CheckAgainst for a listener name it does not know.
var errNoDocument = errors.New("testkit: no OpenAPI document by that name")

// CheckAgainst validates an exchange against the named document ("admin" or
// "public"), for tests that talk to a purse testkit did not start.
func CheckAgainst(t testing.TB, name string, req *http.Request, reqBody []byte, resp Response) error {
	t.Helper()
	admin, public := Documents(t)
	switch name {
	case "admin":
		return admin.Check(req, reqBody, resp)
	case "public":
		return public.Check(req, reqBody, resp)
	}
	return errNoDocument
}
