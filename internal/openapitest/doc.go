// Package openapitest holds tests of the OpenAPI documents from the outside: a
// client generated from docs/openapi/public.json by a mainstream generator
// (openapi-typescript with openapi-fetch, run by node) compiles and reads a balance
// from a running purse. It has no code of its own.
package openapitest
