// The official Atlas Go SDK as a test client of costexplorer (issue 18).
//
// Pinned SDK versions (the Go module proxy serves only pinned versions, not
// @latest): v20250312001.1.0, the seed's, and v20250312020.0.0, the newest
// one the proxy served on 2026-12-07 (v20250312021.0.0 and
// v20250312022.0.0 were refused).
module github.com/costexplorer/costexplorer/clienttest

go 1.26.8

require (
	github.com/costexplorer/costexplorer v0.0.0
	github.com/mongodb-forks/digest v1.1.0
	go.mongodb.org/atlas-sdk/v20250312001 v20250312001.1.0
	go.mongodb.org/atlas-sdk/v20250312020 v20250312020.0.0
)

require golang.org/x/oauth2 v0.36.0

replace github.com/costexplorer/costexplorer => ../
