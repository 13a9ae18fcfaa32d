package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/costexplorer/costexplorer"
)

// InstrumentStore returns s with every call timed into
// costexplorer_store_operation_duration_seconds{operation="<method>"} and
// its failures counted in costexplorer_store_operation_errors_total. This is
// the store latency the server sees, on every path that reaches the store
// (HTTP handlers, authentication, the query workers, engine reloads), queue
// time in the connection pool included. Scans (ScanRollup, ScanDailyRollup,
// ScanLineItems) include the caller's work per row.
//
// The wrapper has only the methods of costexplorer.Store: optional
// interfaces of the store (costexplorer.Verifier, Backup) are not exposed.
func (m *Metrics) InstrumentStore(s costexplorer.Store) costexplorer.Store {
	ops := make(map[string]storeOp, len(storeOperations))
	for _, name := range storeOperations {
		ops[name] = storeOp{
			duration: m.storeDuration.WithLabelValues(name),
			errors:   m.storeErrors.WithLabelValues(name),
		}
	}
	return &instrumentedStore{s: s, ops: ops}
}

// storeOperations names every method of costexplorer.Store but Close, the
// fixed values of the operation label.
var storeOperations = []string{
	"CreateOrganization", "Organization", "Organizations", "LinkOrganization", "LinkedOrganizations",
	"IngestUsage", "DataVersion", "ScanRollup", "ScanDailyRollup", "ScanLineItems", "Projects", "Clusters", "UsageStats",
	"Invoice", "Invoices", "PendingInvoice", "InvoiceLines", "InvoiceTagKeys", "SearchLineItems", "InvoiceSums", "InvoiceIDs",
	"CreateProcess", "Process", "ClaimProcess", "FinishProcess", "FailProcess", "ReleaseLeases",
	"DeleteExpiredProcesses", "ProcessCounts",
	"CreateInvoiceReport", "InvoiceReport", "InvoiceReports", "ClaimInvoiceReport", "WriteInvoiceReportChunk",
	"FinishInvoiceReport", "FailInvoiceReport", "ReleaseInvoiceReportLeases", "InvoiceReportFile",
	"DeleteExpiredInvoiceReports",
	"CreateAPIKey", "APIKeyByPublicKey", "APIKeys", "SetAPIKeyEnabled", "CreateServiceAccount",
	"ServiceAccount", "ServiceAccounts", "SetServiceAccountEnabled", "Secret", "UseNonce", "RevokeToken",
	"TokenRevoked", "DeleteExpiredAuthState",
	"SyncMarks", "AcquireLease", "ReleaseLease", "Lease",
	"Ping",
}

type storeOp struct {
	duration prometheus.Observer
	errors   prometheus.Counter
}

type instrumentedStore struct {
	s   costexplorer.Store
	ops map[string]storeOp
}

var _ costexplorer.Store = (*instrumentedStore)(nil)

// done records one call of op that started at start and returned *err;
// each method defers it with its named error result.
func (i *instrumentedStore) done(op string, start time.Time, err *error) {
	o := i.ops[op]
	o.duration.Observe(time.Since(start).Seconds())
	if storeFault(*err) {
		o.errors.Inc()
	}
}

// storeFault reports whether err is a failure of the store rather than an
// answer (not found, conflict, validation) or a request that went away.
func storeFault(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	switch costexplorer.ErrorCode(err) {
	case costexplorer.ErrInternal, costexplorer.ErrUnavailable:
		return true
	}
	return false
}

func (i *instrumentedStore) CreateOrganization(ctx context.Context, o *costexplorer.Organization) (err error) {
	defer i.done("CreateOrganization", time.Now(), &err)
	return i.s.CreateOrganization(ctx, o)
}

func (i *instrumentedStore) Organization(ctx context.Context, id string) (_ *costexplorer.Organization, err error) {
	defer i.done("Organization", time.Now(), &err)
	return i.s.Organization(ctx, id)
}

func (i *instrumentedStore) Organizations(ctx context.Context, f costexplorer.OrganizationFilter) (_ []*costexplorer.Organization, _ int, err error) {
	defer i.done("Organizations", time.Now(), &err)
	return i.s.Organizations(ctx, f)
}

func (i *instrumentedStore) LinkOrganization(ctx context.Context, payingID, linkedID string) (err error) {
	defer i.done("LinkOrganization", time.Now(), &err)
	return i.s.LinkOrganization(ctx, payingID, linkedID)
}

func (i *instrumentedStore) LinkedOrganizations(ctx context.Context, payingID string) (_ []string, err error) {
	defer i.done("LinkedOrganizations", time.Now(), &err)
	return i.s.LinkedOrganizations(ctx, payingID)
}

func (i *instrumentedStore) IngestUsage(ctx context.Context, b *costexplorer.UsageBatch) (_ costexplorer.IngestResult, err error) {
	defer i.done("IngestUsage", time.Now(), &err)
	return i.s.IngestUsage(ctx, b)
}

func (i *instrumentedStore) DataVersion(ctx context.Context) (_ int64, err error) {
	defer i.done("DataVersion", time.Now(), &err)
	return i.s.DataVersion(ctx)
}

func (i *instrumentedStore) ScanRollup(ctx context.Context, fn func(*costexplorer.RollupRow) error) (err error) {
	defer i.done("ScanRollup", time.Now(), &err)
	return i.s.ScanRollup(ctx, fn)
}

func (i *instrumentedStore) ScanDailyRollup(ctx context.Context, fn func(*costexplorer.DailyRollupRow) error) (err error) {
	defer i.done("ScanDailyRollup", time.Now(), &err)
	return i.s.ScanDailyRollup(ctx, fn)
}

func (i *instrumentedStore) ScanLineItems(ctx context.Context, fn func(*costexplorer.LineItem) error) (err error) {
	defer i.done("ScanLineItems", time.Now(), &err)
	return i.s.ScanLineItems(ctx, fn)
}

func (i *instrumentedStore) Projects(ctx context.Context) (_ []*costexplorer.Project, err error) {
	defer i.done("Projects", time.Now(), &err)
	return i.s.Projects(ctx)
}

func (i *instrumentedStore) Clusters(ctx context.Context) (_ []*costexplorer.Cluster, err error) {
	defer i.done("Clusters", time.Now(), &err)
	return i.s.Clusters(ctx)
}

func (i *instrumentedStore) UsageStats(ctx context.Context) (_ costexplorer.UsageStats, err error) {
	defer i.done("UsageStats", time.Now(), &err)
	return i.s.UsageStats(ctx)
}

func (i *instrumentedStore) CreateProcess(ctx context.Context, p *costexplorer.QueryProcess) (_ *costexplorer.QueryProcess, err error) {
	defer i.done("CreateProcess", time.Now(), &err)
	return i.s.CreateProcess(ctx, p)
}

func (i *instrumentedStore) Process(ctx context.Context, orgID, token string, now time.Time) (_ *costexplorer.QueryProcess, err error) {
	defer i.done("Process", time.Now(), &err)
	return i.s.Process(ctx, orgID, token, now)
}

func (i *instrumentedStore) ClaimProcess(ctx context.Context, owner string, now time.Time, lease time.Duration) (_ *costexplorer.QueryProcess, err error) {
	defer i.done("ClaimProcess", time.Now(), &err)
	return i.s.ClaimProcess(ctx, owner, now, lease)
}

func (i *instrumentedStore) FinishProcess(ctx context.Context, token, owner string, result []byte, now time.Time) (err error) {
	defer i.done("FinishProcess", time.Now(), &err)
	return i.s.FinishProcess(ctx, token, owner, result, now)
}

func (i *instrumentedStore) FailProcess(ctx context.Context, token, owner, message string, now time.Time) (err error) {
	defer i.done("FailProcess", time.Now(), &err)
	return i.s.FailProcess(ctx, token, owner, message, now)
}

func (i *instrumentedStore) ReleaseLeases(ctx context.Context, owner string) (err error) {
	defer i.done("ReleaseLeases", time.Now(), &err)
	return i.s.ReleaseLeases(ctx, owner)
}

func (i *instrumentedStore) DeleteExpiredProcesses(ctx context.Context, now time.Time) (_ int64, err error) {
	defer i.done("DeleteExpiredProcesses", time.Now(), &err)
	return i.s.DeleteExpiredProcesses(ctx, now)
}

func (i *instrumentedStore) ProcessCounts(ctx context.Context) (_ map[costexplorer.ProcessState]int64, err error) {
	defer i.done("ProcessCounts", time.Now(), &err)
	return i.s.ProcessCounts(ctx)
}

func (i *instrumentedStore) CreateAPIKey(ctx context.Context, k *costexplorer.APIKey) (err error) {
	defer i.done("CreateAPIKey", time.Now(), &err)
	return i.s.CreateAPIKey(ctx, k)
}

func (i *instrumentedStore) APIKeyByPublicKey(ctx context.Context, publicKey string) (_ *costexplorer.APIKey, err error) {
	defer i.done("APIKeyByPublicKey", time.Now(), &err)
	return i.s.APIKeyByPublicKey(ctx, publicKey)
}

func (i *instrumentedStore) APIKeys(ctx context.Context, orgID string) (_ []*costexplorer.APIKey, err error) {
	defer i.done("APIKeys", time.Now(), &err)
	return i.s.APIKeys(ctx, orgID)
}

func (i *instrumentedStore) SetAPIKeyEnabled(ctx context.Context, publicKey string, enabled bool) (err error) {
	defer i.done("SetAPIKeyEnabled", time.Now(), &err)
	return i.s.SetAPIKeyEnabled(ctx, publicKey, enabled)
}

func (i *instrumentedStore) CreateServiceAccount(ctx context.Context, a *costexplorer.ServiceAccount) (err error) {
	defer i.done("CreateServiceAccount", time.Now(), &err)
	return i.s.CreateServiceAccount(ctx, a)
}

func (i *instrumentedStore) ServiceAccount(ctx context.Context, clientID string) (_ *costexplorer.ServiceAccount, err error) {
	defer i.done("ServiceAccount", time.Now(), &err)
	return i.s.ServiceAccount(ctx, clientID)
}

func (i *instrumentedStore) ServiceAccounts(ctx context.Context, orgID string) (_ []*costexplorer.ServiceAccount, err error) {
	defer i.done("ServiceAccounts", time.Now(), &err)
	return i.s.ServiceAccounts(ctx, orgID)
}

func (i *instrumentedStore) SetServiceAccountEnabled(ctx context.Context, clientID string, enabled bool) (err error) {
	defer i.done("SetServiceAccountEnabled", time.Now(), &err)
	return i.s.SetServiceAccountEnabled(ctx, clientID, enabled)
}

func (i *instrumentedStore) Secret(ctx context.Context, name string, create func() ([]byte, error)) (_ []byte, err error) {
	defer i.done("Secret", time.Now(), &err)
	return i.s.Secret(ctx, name, create)
}

func (i *instrumentedStore) UseNonce(ctx context.Context, nonce string, nc uint32, expires time.Time) (err error) {
	defer i.done("UseNonce", time.Now(), &err)
	return i.s.UseNonce(ctx, nonce, nc, expires)
}

func (i *instrumentedStore) RevokeToken(ctx context.Context, jti string, expires time.Time) (err error) {
	defer i.done("RevokeToken", time.Now(), &err)
	return i.s.RevokeToken(ctx, jti, expires)
}

func (i *instrumentedStore) TokenRevoked(ctx context.Context, jti string) (_ bool, err error) {
	defer i.done("TokenRevoked", time.Now(), &err)
	return i.s.TokenRevoked(ctx, jti)
}

func (i *instrumentedStore) DeleteExpiredAuthState(ctx context.Context, now time.Time) (err error) {
	defer i.done("DeleteExpiredAuthState", time.Now(), &err)
	return i.s.DeleteExpiredAuthState(ctx, now)
}

func (i *instrumentedStore) Ping(ctx context.Context) (err error) {
	defer i.done("Ping", time.Now(), &err)
	return i.s.Ping(ctx)
}

// Close closes the store (not timed).
func (i *instrumentedStore) Close() error { return i.s.Close() }

func (i *instrumentedStore) Invoice(ctx context.Context, orgIDs []string, id string) (_ *costexplorer.Invoice, err error) {
	defer i.done("Invoice", time.Now(), &err)
	return i.s.Invoice(ctx, orgIDs, id)
}

func (i *instrumentedStore) Invoices(ctx context.Context, q *costexplorer.InvoiceListQuery, now time.Time) (_ []*costexplorer.Invoice, _ int, err error) {
	defer i.done("Invoices", time.Now(), &err)
	return i.s.Invoices(ctx, q, now)
}

func (i *instrumentedStore) PendingInvoice(ctx context.Context, orgID string, now time.Time) (_ *costexplorer.Invoice, err error) {
	defer i.done("PendingInvoice", time.Now(), &err)
	return i.s.PendingInvoice(ctx, orgID, now)
}

func (i *instrumentedStore) InvoiceLines(ctx context.Context, invoiceID string, fn func(*costexplorer.InvoiceLine) error) (err error) {
	defer i.done("InvoiceLines", time.Now(), &err)
	return i.s.InvoiceLines(ctx, invoiceID, fn)
}

func (i *instrumentedStore) InvoiceTagKeys(ctx context.Context, invoiceID string) (_ []string, err error) {
	defer i.done("InvoiceTagKeys", time.Now(), &err)
	return i.s.InvoiceTagKeys(ctx, invoiceID)
}

func (i *instrumentedStore) SearchLineItems(ctx context.Context, invoiceID string, s *costexplorer.LineItemSearch, page costexplorer.PageRequest) (_ []*costexplorer.InvoiceLine, _ int, err error) {
	defer i.done("SearchLineItems", time.Now(), &err)
	return i.s.SearchLineItems(ctx, invoiceID, s, page)
}

func (i *instrumentedStore) InvoiceSums(ctx context.Context, invoiceID string) (_ []costexplorer.InvoiceSum, err error) {
	defer i.done("InvoiceSums", time.Now(), &err)
	return i.s.InvoiceSums(ctx, invoiceID)
}

func (i *instrumentedStore) InvoiceIDs(ctx context.Context) (_ []costexplorer.InvoiceRef, err error) {
	defer i.done("InvoiceIDs", time.Now(), &err)
	return i.s.InvoiceIDs(ctx)
}

func (i *instrumentedStore) CreateInvoiceReport(ctx context.Context, r *costexplorer.InvoiceReport) (err error) {
	defer i.done("CreateInvoiceReport", time.Now(), &err)
	return i.s.CreateInvoiceReport(ctx, r)
}

func (i *instrumentedStore) InvoiceReport(ctx context.Context, orgID, invoiceID, id string, now time.Time) (_ *costexplorer.InvoiceReport, err error) {
	defer i.done("InvoiceReport", time.Now(), &err)
	return i.s.InvoiceReport(ctx, orgID, invoiceID, id, now)
}

func (i *instrumentedStore) InvoiceReports(ctx context.Context, orgID, invoiceID string, now time.Time, page costexplorer.PageRequest) (_ []*costexplorer.InvoiceReport, _ int, err error) {
	defer i.done("InvoiceReports", time.Now(), &err)
	return i.s.InvoiceReports(ctx, orgID, invoiceID, now, page)
}

func (i *instrumentedStore) ClaimInvoiceReport(ctx context.Context, owner string, now time.Time, lease time.Duration) (_ *costexplorer.InvoiceReport, err error) {
	defer i.done("ClaimInvoiceReport", time.Now(), &err)
	return i.s.ClaimInvoiceReport(ctx, owner, now, lease)
}

func (i *instrumentedStore) WriteInvoiceReportChunk(ctx context.Context, id string, attempt, seq int, data []byte) (err error) {
	defer i.done("WriteInvoiceReportChunk", time.Now(), &err)
	return i.s.WriteInvoiceReportChunk(ctx, id, attempt, seq, data)
}

func (i *instrumentedStore) FinishInvoiceReport(ctx context.Context, id, owner string, attempt int, size int64, now, expires time.Time) (err error) {
	defer i.done("FinishInvoiceReport", time.Now(), &err)
	return i.s.FinishInvoiceReport(ctx, id, owner, attempt, size, now, expires)
}

func (i *instrumentedStore) FailInvoiceReport(ctx context.Context, id, owner, reason string, now time.Time) (err error) {
	defer i.done("FailInvoiceReport", time.Now(), &err)
	return i.s.FailInvoiceReport(ctx, id, owner, reason, now)
}

func (i *instrumentedStore) ReleaseInvoiceReportLeases(ctx context.Context, owner string) (err error) {
	defer i.done("ReleaseInvoiceReportLeases", time.Now(), &err)
	return i.s.ReleaseInvoiceReportLeases(ctx, owner)
}

func (i *instrumentedStore) InvoiceReportFile(ctx context.Context, id string, now time.Time, fn func([]byte) error) (err error) {
	defer i.done("InvoiceReportFile", time.Now(), &err)
	return i.s.InvoiceReportFile(ctx, id, now, fn)
}

func (i *instrumentedStore) DeleteExpiredInvoiceReports(ctx context.Context, now time.Time) (_ int64, err error) {
	defer i.done("DeleteExpiredInvoiceReports", time.Now(), &err)
	return i.s.DeleteExpiredInvoiceReports(ctx, now)
}

func (i *instrumentedStore) SyncMarks(ctx context.Context, source string) (_ []costexplorer.SyncMark, err error) {
	defer i.done("SyncMarks", time.Now(), &err)
	return i.s.SyncMarks(ctx, source)
}

func (i *instrumentedStore) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (_ bool, err error) {
	defer i.done("AcquireLease", time.Now(), &err)
	return i.s.AcquireLease(ctx, name, holder, ttl)
}

func (i *instrumentedStore) ReleaseLease(ctx context.Context, name, holder string) (err error) {
	defer i.done("ReleaseLease", time.Now(), &err)
	return i.s.ReleaseLease(ctx, name, holder)
}

func (i *instrumentedStore) Lease(ctx context.Context, name string) (_ string, _ time.Time, err error) {
	defer i.done("Lease", time.Now(), &err)
	return i.s.Lease(ctx, name)
}
