// Package httpkit holds what purse's two HTTP surfaces share: Infobip's requestError
// envelope in JSON and XML, request logging, and the server settings that keep a
// listener safe (timeouts, header and body limits).
package httpkit

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"sort"
	"strconv"
)

// Format is a response encoding.
type Format int

// Formats a response can be written in.
const (
	JSON Format = iota
	XML
)

// ContentType is the Content-Type header value of a format.
func (f Format) ContentType() string {
	if f == XML {
		return "application/xml"
	}
	return "application/json"
}

// ServiceException is the body of Infobip's error envelope.
type ServiceException struct {
	MessageID        string              `json:"messageId"`
	Text             string              `json:"text"`
	ValidationErrors map[string][]string `json:"validationErrors,omitempty"`
}

type jsonEnvelope struct {
	RequestError struct {
		ServiceException ServiceException `json:"serviceException"`
	} `json:"requestError"`
}

// EncodeError renders {"requestError":{"serviceException":{...}}} in the format.
func EncodeError(f Format, ex ServiceException) []byte {
	if f == XML {
		return encodeXMLError(ex)
	}
	var env jsonEnvelope
	env.RequestError.ServiceException = ex
	b, err := json.Marshal(env)
	if err != nil { // cannot happen: strings and string slices only
		panic(err)
	}
	return b
}

type xmlField struct {
	Name     string   `xml:"name,attr"`
	Messages []string `xml:"message"`
}

type xmlValidation struct {
	Fields []xmlField `xml:"field"`
}

type xmlEnvelope struct {
	XMLName          xml.Name `xml:"requestError"`
	ServiceException struct {
		MessageID        string         `xml:"messageId"`
		Text             string         `xml:"text"`
		ValidationErrors *xmlValidation `xml:"validationErrors,omitempty"`
	} `xml:"serviceException"`
}

func encodeXMLError(ex ServiceException) []byte {
	var env xmlEnvelope
	env.ServiceException.MessageID = ex.MessageID
	env.ServiceException.Text = ex.Text
	keys := make([]string, 0, len(ex.ValidationErrors))
	for k := range ex.ValidationErrors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		v := &xmlValidation{}
		for _, k := range keys {
			v.Fields = append(v.Fields, xmlField{Name: k, Messages: ex.ValidationErrors[k]})
		}
		env.ServiceException.ValidationErrors = v
	}
	b, err := xml.Marshal(env)
	if err != nil {
		panic(err)
	}
	return b
}

// WriteError writes the envelope with its status.
func WriteError(w http.ResponseWriter, f Format, status int, ex ServiceException) {
	Write(w, f, status, EncodeError(f, ex))
}

// Shared header values: assigning them allocates nothing, and net/http only reads them.
var (
	jsonType = []string{"application/json"}
	xmlType  = []string{"application/xml"}
	nosniff  = []string{"nosniff"}
)

// Write sends a complete body with its content type and length. net/http sets
// Content-Length itself for a body it holds whole when the handler returns (up to
// smallBody bytes, the size of its buffer before it would switch to chunked
// encoding; HEAD included, unless the body is empty), so only the others get it here.
func Write(w http.ResponseWriter, f Format, status int, body []byte) {
	h := w.Header()
	if f == XML {
		h["Content-Type"] = xmlType
	} else {
		h["Content-Type"] = jsonType
	}
	h["X-Content-Type-Options"] = nosniff
	if len(body) == 0 || len(body) > smallBody {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	w.Write(body)
}

// smallBody is net/http's bufferBeforeChunkingSize.
const smallBody = 2048
