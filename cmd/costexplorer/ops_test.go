package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/internal/demo"
	"github.com/costexplorer/costexplorer/internal/logtest"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// common name and returns its pool.
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func clientTrusting(certs ...*x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
		DisableKeepAlives: true,
	}}
}

// bearerToken gets an access token for the demo service account.
func bearerToken(t *testing.T, c *http.Client, base string, creds *demo.Credentials) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.SetBasicAuth(creds.ClientID, creds.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

func readCreds(t *testing.T, dir string) *demo.Credentials {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, demo.CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	var c demo.Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestTLSRoundTripOverHTTP2 runs a cost-explorer round trip over HTTPS and
// records what an HTTP/2 client sees while a query is processing: an
// interim 102, then an empty final 200 (HTTP/2 has no Connection header).
func TestTLSRoundTripOverHTTP2(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writeCert(t, certFile, keyFile, "first")
	reloaded := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan int, 1)
	var stderr logtest.Buffer
	m := NewMain(strings.NewReader(""), &logtest.Buffer{}, &stderr, func(string) string { return "" })
	// A running clock: readiness waits for --min-processing to pass.
	m.Now = time.Now
	m.Ready = func(u string) { ready <- u }
	m.CertReloaded = func(err error) { reloaded <- err }
	go func() {
		done <- m.Run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--size", "5000",
			"--tls-cert", certFile, "--tls-key", keyFile, "--min-processing", "1500ms"})
	}()
	var base string
	select {
	case base = <-ready:
	case code := <-done:
		t.Fatalf("exited %d: %s", code, stderr.String())
	}
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	}()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base URL %s is not https", base)
	}
	creds := readCreds(t, dir)
	c := clientTrusting(first)
	token := bearerToken(t, c, base, creds)

	end := costexplorer.MonthOf(time.Now()) + 1
	body := `{"startDate":"` + (end - 6).Date() + `","endDate":"` + end.Date() + `","organizations":["` + creds.OrgID + `"],"groupBy":"organizations"}`
	req, _ := http.NewRequest("POST", base+"/api/atlas/v2/orgs/"+creds.OrgID+"/billing/costExplorer/usage", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 202 || resp.ProtoMajor != 2 {
		t.Fatalf("POST = %d over HTTP/%d, want 202 over HTTP/2", resp.StatusCode, resp.ProtoMajor)
	}

	get := func() (*http.Response, []byte, []int, []http.Header) {
		var interim []int
		var interimHeaders []http.Header
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			interim = append(interim, code)
			interimHeaders = append(interimHeaders, http.Header(h))
			return nil
		}}
		req, _ := http.NewRequest("GET", base+"/api/atlas/v2/orgs/"+creds.OrgID+"/billing/costExplorer/usage/"+created.Token, nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b, interim, interimHeaders
	}
	resp, b, interim, interimHeaders := get()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || len(b) != 0 || len(interim) != 1 || interim[0] != 102 {
		t.Fatalf("while processing over HTTP/%d: interim %v, final %d with %d bytes; want 102 then an empty 200", resp.ProtoMajor, interim, resp.StatusCode, len(b))
	}
	if interimHeaders[0].Get("Retry-After") == "" {
		t.Errorf("the interim 102 lacks Retry-After: %v", interimHeaders[0])
	}
	if v := resp.Header.Get("Connection"); v != "" {
		t.Errorf("an HTTP/2 response carries Connection: %q", v)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, b, _, _ = get()
		if len(b) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"usageDetails"`)) {
		t.Fatalf("ready result over HTTPS = %d %s", resp.StatusCode, b)
	}

	// Certificate reload on SIGHUP: new connections see the new certificate.
	second := writeCert(t, certFile, keyFile, "second")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-reloaded:
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reload after SIGHUP")
	}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	got := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	conn.Close()
	if got != second.Subject.CommonName {
		t.Errorf("after SIGHUP the server presents %q, want %q", got, second.Subject.CommonName)
	}
}

func TestPrintConfigMasksSecretsAndNamesSources(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "costexplorer.conf")
	if err := os.WriteFile(cfgFile, []byte("# test\nworkers = 3\nmin-processing = \"2s\"\nlog-level = debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	env := map[string]string{"COSTEXPLORER_LOG_LEVEL": "warn", "COSTEXPLORER_DB": "postgres://app:s3cr3t@db:5432/ce"}
	m := NewMain(strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] })
	code := m.Run(context.Background(), []string{"serve", "--config", cfgFile, "--print-config", "--addr", "127.0.0.1:9999"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, "s3cr3t") {
		t.Errorf("--print-config shows the database password:\n%s", out)
	}
	for _, want := range []string{
		`addr                 = "127.0.0.1:9999"`, "# flag",
		`workers              = "3"`, "# file " + cfgFile,
		`log-level            = "warn"`, "# env COSTEXPLORER_LOG_LEVEL",
		`db                   = "postgres://app:****@db:5432/ce"`,
		`min-processing       = "2s"`,
		`result-ttl           = "24h0m0s"`, "# default",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out)
		}
	}
}

func TestInvalidConfigurationFailsFastNamingTheOption(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		file string
		args []string
		want string
	}{
		{"BadDuration", "", []string{"--min-processing", "soon"}, "min-processing"},
		{"UnknownFileOption", "colour = blue\n", nil, `unknown option "colour"`},
		{"BadFileValue", "workers = many\n", nil, "workers"},
		{"TLSCertWithoutKey", "", []string{"--tls-cert", "x.pem"}, "--tls-cert"},
		{"BadDSN", "", []string{"--db", "mysql://x"}, "--db"},
		{"BadMetricsAddr", "", []string{"--metrics-addr", "metrics"}, "--metrics-addr"},
		{"PprofWithoutMetricsAddr", "", []string{"--pprof"}, "--pprof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--data-dir", dir}, tc.args...)
			if tc.file != "" {
				f := filepath.Join(dir, tc.name+".conf")
				_ = os.WriteFile(f, []byte(tc.file), 0o600)
				args = append(args, "--config", f)
			}
			var stderr bytes.Buffer
			code := NewMain(strings.NewReader(""), &bytes.Buffer{}, &stderr, func(string) string { return "" }).Run(context.Background(), args)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 naming %q", code, stderr.String(), tc.want)
			}
		})
	}
}
