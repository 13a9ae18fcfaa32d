package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer/internal/servertest"
)

// reportCall sends one invoice reports request (version 2025-03-12) with a
// Bearer token, or a credential-less GET of a download URL when bearer is
// empty.
func reportCall(c *http.Client, method, target, bearer, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return 0, nil, err
	}
	if bearer != "" {
		req.Header.Set("Accept", "application/vnd.atlas.2025-03-12+json")
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.atlas.2025-03-12+json")
	}
	return servertest.Send(c, req)
}

type crashReport struct {
	ReportID, InvoiceID, FormatSpecVersion, State, DownloadURL string
}

// TestCrashWhileReportsRunCompletesEveryReport SIGKILLs a server while it
// makes invoice reports (one report worker, a burst of reports: the kill
// lands while one is running and the others wait), then starts another
// server on the same store: every report the first accepted succeeds on the
// second — the one the dead server was running once its 2-second lease
// lapses — and its download is a whole gzip CSV, byte for byte the file a
// fresh report of the same invoice makes (the dead attempt's chunks are
// never served).
func TestCrashWhileReportsRunCompletesEveryReport(t *testing.T) {
	onEachCrashStore(t, crashWhileReportsRun)
}

func crashWhileReportsRun(t *testing.T, bin string, cs *crashStore) {
	first := startProcIn(t, cs.dir, bin, cs.args("demo", "--size", "200000", "--addr", "127.0.0.1:0",
		"--lease", "2s", "--rate-limit-capacity", "100000")...)
	base := first.waitServing(t, 90*time.Second)
	creds := readCreds(t, cs.dir)
	bearer := bearerToken(t, http.DefaultClient, base, creds)
	c := &http.Client{Timeout: 60 * time.Second}
	invoices := base + "/api/atlas/v2/orgs/" + creds.OrgID + "/invoices"

	status, _, b, err := apiCall(c, "GET", invoices, bearer, "")
	var list struct{ Results []struct{ ID string } }
	if err != nil || status != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list.Results) == 0 {
		t.Fatalf("list invoices: %d %v %.300s", status, err, b)
	}
	var accepted []crashReport
	for _, inv := range list.Results[:min(4, len(list.Results))] {
		for _, spec := range []string{"1.3", "1.2"} {
			status, b, err := reportCall(c, "POST", invoices+"/"+inv.ID+"/reports", bearer,
				`{"reportType":"FOCUS","reportFormat":"CSV","formatSpecVersion":"`+spec+`"}`)
			var r crashReport
			if err != nil || status != http.StatusCreated || json.Unmarshal(b, &r) != nil {
				t.Fatalf("create report: %d %v %s", status, err, b)
			}
			accepted = append(accepted, r)
		}
	}
	// Kill as soon as a report runs.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if states, _ := cs.rowStates(t, "invoice_reports", "'SUCCEEDED', 'FAILED'"); states["RUNNING"] > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	first.signal(t, syscall.SIGKILL)
	first.exitCode(t, 30*time.Second)
	states, leased := cs.rowStates(t, "invoice_reports", "'SUCCEEDED', 'FAILED'")
	t.Logf("killed with %d accepted reports: by state %v, %d holding a lease", len(accepted), states, leased)
	if states["SUCCEEDED"] == len(accepted) {
		t.Fatal("every report was done before the kill: the test proves nothing")
	}
	if leased == 0 {
		t.Log("no report was running at the kill (it raced to its end): only pending reports are taken over")
	}

	second := startProcIn(t, cs.dir, bin, cs.args("serve", "--addr", "127.0.0.1:0", "--lease", "2s", "--rate-limit-capacity", "100000")...)
	base = second.waitServing(t, 60*time.Second)
	bearer = bearerToken(t, http.DefaultClient, base, creds)
	invoices = base + "/api/atlas/v2/orgs/" + creds.OrgID + "/invoices"
	poll := func(r crashReport) crashReport {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			status, b, err := reportCall(c, "GET", invoices+"/"+r.InvoiceID+"/reports/"+r.ReportID, bearer, "")
			var got crashReport
			if err != nil || status != http.StatusOK || json.Unmarshal(b, &got) != nil {
				t.Fatalf("get report %s after the restart: %d %v %s", r.ReportID, status, err, b)
			}
			switch {
			case got.State == "SUCCEEDED":
				return got
			case got.State == "FAILED":
				t.Fatalf("report %s failed after the restart: %s", r.ReportID, b)
			case time.Now().After(deadline):
				t.Fatalf("report %s still %s 90 s after the restart", r.ReportID, got.State)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	download := func(r crashReport) []byte {
		t.Helper()
		status, b, err := reportCall(c, "GET", r.DownloadURL, "", "")
		if err != nil || status != http.StatusOK {
			t.Fatalf("download %s: %d %v %.200s", r.ReportID, status, err, b)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err == nil {
			_, err = io.Copy(io.Discard, zr)
		}
		if err != nil {
			t.Fatalf("report %s is not a whole gzip file: %v", r.ReportID, err)
		}
		return b
	}
	for _, r := range accepted {
		done := poll(r)
		file := download(done)
		// The same invoice and version, made afresh with nobody crashing.
		status, b, err := reportCall(c, "POST", invoices+"/"+r.InvoiceID+"/reports", bearer,
			`{"reportType":"FOCUS","reportFormat":"CSV","formatSpecVersion":"`+r.FormatSpecVersion+`"}`)
		var fresh crashReport
		if err != nil || status != http.StatusCreated || json.Unmarshal(b, &fresh) != nil {
			t.Fatalf("create report: %d %v %s", status, err, b)
		}
		if !bytes.Equal(download(poll(fresh)), file) {
			t.Fatalf("report %s (taken over after the crash) differs from a fresh report of invoice %s", r.ReportID, r.InvoiceID)
		}
	}
	second.signal(t, syscall.SIGTERM)
	if code := second.exitCode(t, 30*time.Second); code != 0 {
		t.Fatalf("second server exited %d:\n%s", code, second.stderr.String())
	}
	states, leased = cs.rowStates(t, "invoice_reports", "'SUCCEEDED', 'FAILED'")
	if states["SUCCEEDED"] != 2*len(accepted) || leased != 0 {
		t.Fatalf("after the second server stopped: states %v, %d leased; want %d succeeded", states, leased, 2*len(accepted))
	}
	t.Logf("all %d reports accepted before the crash succeeded after it", len(accepted))
}
