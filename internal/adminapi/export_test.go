package adminapi

// AdminRequestHash is requestHash, for the external tests (the fixture builder).
var AdminRequestHash = requestHash
