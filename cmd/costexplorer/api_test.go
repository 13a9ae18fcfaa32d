package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/client"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/servertest"
)

// cliNow is the pinned clock of the client-command tests: the demo data
// ends on this day.
var cliNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

// cliServer is a demo server started in-process for the client commands,
// with its credentials.
type cliServer struct {
	*runningServer
	creds *demo.Credentials
}

// startCLIServer runs `costexplorer demo` on a small dataset with extra
// serve flags, its clock pinned at cliNow.
func startCLIServer(t *testing.T, extra ...string) *cliServer {
	t.Helper()
	return startCLIServerClock(t, func() time.Time { return cliNow }, extra...)
}

// startCLIServerClock is startCLIServer with the given clock.
func startCLIServerClock(t *testing.T, now func() time.Time, extra ...string) *cliServer {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--size", "20000", "--log-level", "error"}, extra...)
	s := startMain(t, now, args...)
	return &cliServer{runningServer: s, creds: readCreds(t, dir)}
}

// env returns the environment of a client command using the server's API
// key (Digest).
func (s *cliServer) env() map[string]string {
	return map[string]string{
		"COSTEXPLORER_BASE_URL":    s.URL,
		"COSTEXPLORER_PUBLIC_KEY":  s.creds.PublicKey,
		"COSTEXPLORER_PRIVATE_KEY": s.creds.PrivateKey,
		"COSTEXPLORER_ORG_ID":      s.creds.OrgID,
	}
}

// rawFetch fetches path with the given Accept header (and a body of that
// media type) through the client's Digest transport (the body untouched).
func (s *cliServer) rawFetch(t *testing.T, method, path, accept string, body []byte) (int, []byte) {
	t.Helper()
	return s.rawFetchAs(t, method, path, accept, accept, body)
}

// rawFetchAs is rawFetch with a body of media type contentType.
func (s *cliServer) rawFetchAs(t *testing.T, method, path, accept, contentType string, body []byte) (int, []byte) {
	t.Helper()
	c, err := client.New(s.URL, client.WithDigest(s.creds.PublicKey, s.creds.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	req, err := c.NewRequest(t.Context(), method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	status, b, err := servertest.Send(c, req)
	if err != nil {
		t.Fatal(err)
	}
	return status, b
}

// wantServed checks that the command printed nothing but what the server
// answers (200, not empty) to method path with accept and body, byte for
// byte: the api command passes the answer through untouched.
func (s *cliServer) wantServed(t *testing.T, r cliResult, method, path, accept string, body []byte) {
	t.Helper()
	status, raw := s.rawFetch(t, method, path, accept, body)
	if status != 200 || len(raw) == 0 {
		t.Fatalf("raw fetch: %d %q", status, raw)
	}
	if r.stdout != string(raw) {
		t.Errorf("printed:\n%s\nthe server answers:\n%s", r.stdout, raw)
	}
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}
}

const servicesBody = `{"startDate":"2025-04-01","endDate":"2025-07-01","services":["Clusters","Backup","Support"],"groupBy":"services"}`

// TestAPIPrintsServerBodyAsReceived checks that every operation prints the
// server's body byte for byte, compared with a raw fetch of the same
// resource.
func TestAPIPrintsServerBodyAsReceived(t *testing.T) {
	s := startCLIServer(t)
	env := s.env()
	org := s.creds.OrgID
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte(servicesBody), 0o600); err != nil {
		t.Fatal(err)
	}

	create := runCLI(t, env, "", "api", "invoices", "createCostExplorerProcess", "--orgId", org, "--file", file)
	if create.code != 0 {
		t.Fatalf("create: exit %d: %s", create.code, create.stderr)
	}
	_, raw := s.rawFetch(t, "POST", client.UsagePath(org, ""), "application/vnd.atlas.2023-01-01+json", []byte(servicesBody))
	if create.stdout != string(raw) {
		t.Fatalf("create printed %q, the server answers %q", create.stdout, raw)
	}
	token := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(create.stdout), `{"token":"`), `"}`)

	// Every alias of the create operation, with the body on standard input.
	for _, alias := range []string{"createCostExplorerQueryProcess", "createOrgBillingCostExplorerUsageProcess"} {
		for _, fileArgs := range [][]string{nil, {"--file", "-"}} {
			r := runCLI(t, env, servicesBody, append([]string{"api", "invoices", alias}, fileArgs...)...)
			if r.code != 0 || r.stdout != create.stdout {
				t.Errorf("%s %v: exit %d, %q; want %q", alias, fileArgs, r.code, r.stdout, create.stdout)
			}
		}
	}

	json := "application/vnd.atlas.2023-01-01+json"
	csv := "application/vnd.atlas.2023-01-01+csv"
	tests := []struct {
		name   string
		args   []string
		path   string
		accept string
	}{
		{"JSON", []string{"api", "invoices", "getCostExplorerUsage", "--token", token}, client.UsagePath(org, token), json},
		{"JSONOldName", []string{"api", "invoices", "getCostExplorerQueryProcess", "--token", token, "--orgId", org}, client.UsagePath(org, token), json},
		{"Pretty", []string{"api", "invoices", "getOrgBillingCostExplorerUsage", "--token", token, "--pretty"}, client.UsagePath(org, token) + "?pretty=true", json},
		{"Envelope", []string{"api", "invoices", "getCostExplorerUsage", "--token", token, "--envelope"}, client.UsagePath(org, token) + "?envelope=true", json},
		{"CSV", []string{"api", "invoices", "getCostExplorerUsage", "--token", token, "--output", "csv"}, client.UsagePath(org, token), csv},
		{"FlagsBeforeOperationArgs", []string{"api", "invoices", "getCostExplorerUsage", "--output", "csv", "--token", token}, client.UsagePath(org, token), csv},
		{"LaterVersion", []string{"api", "invoices", "getCostExplorerUsage", "--token", token, "--version", "2025-03-12"}, client.UsagePath(org, token), "application/vnd.atlas.2025-03-12+json"},
		{"ListOrganizations", []string{"api", "organizations", "listOrganizations", "--itemsPerPage", "5"}, "/api/atlas/v2/orgs?itemsPerPage=5", json},
		{"GetOrganization", []string{"api", "organizations", "getOrganization", "--pretty"}, "/api/atlas/v2/orgs/" + org + "?pretty=true", json},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The result is ready at once (no --min-processing).
			r := runCLI(t, env, "", tt.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			s.wantServed(t, r, "GET", tt.path, tt.accept, nil)
		})
	}

	t.Run("ServiceAccount", func(t *testing.T) {
		env := map[string]string{
			"MONGODB_ATLAS_BASE_URL":      s.URL,
			"MONGODB_ATLAS_CLIENT_ID":     s.creds.ClientID,
			"MONGODB_ATLAS_CLIENT_SECRET": s.creds.ClientSecret,
			"MONGODB_ATLAS_ORG_ID":        org,
		}
		r := runCLI(t, env, "", "api", "invoices", "getCostExplorerUsage", "--token", token, "--output", "csv")
		_, raw := s.rawFetch(t, "GET", client.UsagePath(org, token), csv, nil)
		if r.code != 0 || r.stdout != string(raw) {
			t.Errorf("exit %d, %q; want the server's CSV", r.code, r.stdout)
		}
	})
}

// TestAPIExitStatus checks the exit status and messages of every failure
// class.
func TestAPIExitStatus(t *testing.T) {
	s := startCLIServer(t)
	slow := startCLIServer(t, "--min-processing", "1h")
	org := s.creds.OrgID
	unknown := strings.Repeat("ab", 32)
	// A query that stays processing on the slow server (its clock is pinned).
	r := runCLI(t, slow.env(), servicesBody, "api", "invoices", "createCostExplorerProcess")
	if r.code != 0 {
		t.Fatalf("create on the slow server: %d %s", r.code, r.stderr)
	}
	slowToken := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(r.stdout), `{"token":"`), `"}`)

	wrongKey := s.env()
	wrongKey["COSTEXPLORER_PRIVATE_KEY"] = "00000000-0000-0000-0000-000000000000"
	noCreds := map[string]string{"COSTEXPLORER_BASE_URL": s.URL, "COSTEXPLORER_ORG_ID": org}
	unreachable := s.env()
	unreachable["COSTEXPLORER_BASE_URL"] = "http://127.0.0.1:1"

	tests := []struct {
		name       string
		env        map[string]string
		stdin      string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr []string
	}{
		{"OK", s.env(), "", []string{"api", "organizations", "getOrganization"}, 0, "", nil},
		{"Help", s.env(), "", []string{"api", "--help"}, 0, "", nil},
		{"NoOperation", s.env(), "", []string{"api"}, exitUsage, "", nil},
		{"UnknownOperation", s.env(), "", []string{"api", "invoices", "deleteEverything"}, exitUsage, "", []string{`unknown operation "invoices" "deleteEverything"`}},
		{"BadFlag", s.env(), "", []string{"api", "invoices", "getCostExplorerUsage", "--colour"}, exitUsage, "", []string{"flag provided but not defined: -colour"}},
		{"MissingToken", s.env(), "", []string{"api", "invoices", "getCostExplorerUsage"}, exitUsage, "", []string{"--token is required"}},
		{"BadOutput", s.env(), "", []string{"api", "invoices", "getCostExplorerUsage", "--token", unknown, "--output", "xml"}, exitUsage, "", []string{"--output must be json or csv"}},
		{"MissingFile", s.env(), "", []string{"api", "invoices", "createCostExplorerProcess", "--file", "/nonexistent/body.json"}, exitUsage, "", []string{"read --file"}},
		{"MissingOrg", map[string]string{"COSTEXPLORER_BASE_URL": s.URL}, "", []string{"api", "organizations", "getOrganization"}, exitUsage, "", []string{"--orgId is required"}},
		{"APIErrorUnknownToken", s.env(), "", []string{"api", "invoices", "getCostExplorerUsage", "--token", unknown}, exitAPIError, "",
			[]string{"Error: 404 RESOURCE_NOT_FOUND: Cannot find a cost explorer query", `"errorCode":"RESOURCE_NOT_FOUND"`}},
		{"APIErrorInvalidBody", s.env(), `{"startDate":"2025-04-01","endDate":"2025-07-01","groupBy":"projects"}`, []string{"api", "invoices", "createCostExplorerProcess"}, exitAPIError, "",
			[]string{"Error: 400 VALIDATION_ERROR", `"badRequestDetail":{"fields":[{"field":"groupBy"`}},
		{"AuthWrongKey", wrongKey, "", []string{"api", "organizations", "getOrganization"}, exitAuth, "", []string{"Error: 401 USER_UNAUTHORIZED", `"errorCode":"USER_UNAUTHORIZED"`}},
		{"AuthNoCredentials", noCreds, "", []string{"api", "organizations", "getOrganization"}, exitAuth, "", []string{"no credentials"}},
		{"AuthServiceAccountRefused", map[string]string{"COSTEXPLORER_BASE_URL": s.URL, "COSTEXPLORER_ORG_ID": org,
			"COSTEXPLORER_CLIENT_ID": s.creds.ClientID, "COSTEXPLORER_CLIENT_SECRET": "wrong"}, "", []string{"api", "organizations", "getOrganization"}, exitAuth, "", []string{"401 invalid_client"}},
		{"Network", unreachable, "", []string{"api", "organizations", "getOrganization"}, exitNetwork, "", []string{"connection refused"}},
		{"Processing", slow.env(), "", []string{"api", "invoices", "getCostExplorerUsage", "--token", slowToken}, exitProcessing, "",
			[]string{"query " + slowToken + " is still processing; try again in "}},
		{"ProcessingEnvelope", slow.env(), "", []string{"api", "invoices", "getCostExplorerUsage", "--token", slowToken, "--envelope"}, exitProcessing,
			"{\"status\":102,\"content\":{}}\n", []string{"is still processing; try again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.stdin, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			if tt.wantCode != 0 && r.stdout != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", r.stdout, tt.wantStdout)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestAPIRateLimitedIsRetried checks that the api command rides out a 429
// (Retry-After) instead of failing.
func TestAPIRateLimitedIsRetried(t *testing.T) {
	// The bucket refills with time, so this server's clock runs.
	start := time.Now()
	s := startCLIServerClock(t, func() time.Time { return cliNow.Add(time.Since(start)) },
		"--rate-limit-capacity", "1", "--rate-limit-refill", "1", "--rate-limit-period", "1s")
	for i := range 2 {
		r := runCLI(t, s.env(), servicesBody, "api", "invoices", "createCostExplorerProcess")
		if r.code != 0 {
			t.Fatalf("request %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
}
