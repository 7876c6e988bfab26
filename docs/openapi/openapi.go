// Package openapi holds purse's OpenAPI 3.1 documents, embedded so that each
// listener serves its own at GET /openapi.json and the tests validate every
// response against the same bytes: admin.json for the admin listener, public.json
// for the public one. They are written by hand beside the code (docs/api.md is
// their prose); internal/testkit's validation makes a route or a field that one of
// them lacks fail the API tests.
package openapi

import _ "embed"

// Admin is the OpenAPI document of the admin listener.
//
//go:embed admin.json
var Admin []byte

// Public is the OpenAPI document of the public listener (Infobip's routes).
//
//go:embed public.json
var Public []byte
