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
// time in the connection pool included. Scans (ScanRollup, ScanLineItems)
// include the caller's work per row.
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
	"IngestUsage", "DataVersion", "ScanRollup", "ScanLineItems", "Projects", "Clusters", "UsageStats",
	"Invoice", "Invoices", "PendingInvoice", "InvoiceLines", "InvoiceTagKeys", "SearchLineItems", "InvoiceIDs",
	"CreateProcess", "Process", "ClaimProcess", "FinishProcess", "FailProcess", "ReleaseLeases",
	"DeleteExpiredProcesses", "ProcessCounts",
	"CreateAPIKey", "APIKeyByPublicKey", "APIKeys", "SetAPIKeyEnabled", "CreateServiceAccount",
	"ServiceAccount", "ServiceAccounts", "SetServiceAccountEnabled", "Secret", "UseNonce", "RevokeToken",
	"TokenRevoked", "DeleteExpiredAuthState",
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

// done records one call of op that started at start and returned err.
func (i *instrumentedStore) done(op string, start time.Time, err error) {
	o := i.ops[op]
	o.duration.Observe(time.Since(start).Seconds())
	if storeFault(err) {
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

func (i *instrumentedStore) CreateOrganization(ctx context.Context, o *costexplorer.Organization) error {
	start := time.Now()
	err := i.s.CreateOrganization(ctx, o)
	i.done("CreateOrganization", start, err)
	return err
}

func (i *instrumentedStore) Organization(ctx context.Context, id string) (*costexplorer.Organization, error) {
	start := time.Now()
	v0, err := i.s.Organization(ctx, id)
	i.done("Organization", start, err)
	return v0, err
}

func (i *instrumentedStore) Organizations(ctx context.Context, f costexplorer.OrganizationFilter) ([]*costexplorer.Organization, int, error) {
	start := time.Now()
	v0, v1, err := i.s.Organizations(ctx, f)
	i.done("Organizations", start, err)
	return v0, v1, err
}

func (i *instrumentedStore) LinkOrganization(ctx context.Context, payingID, linkedID string) error {
	start := time.Now()
	err := i.s.LinkOrganization(ctx, payingID, linkedID)
	i.done("LinkOrganization", start, err)
	return err
}

func (i *instrumentedStore) LinkedOrganizations(ctx context.Context, payingID string) ([]string, error) {
	start := time.Now()
	v0, err := i.s.LinkedOrganizations(ctx, payingID)
	i.done("LinkedOrganizations", start, err)
	return v0, err
}

func (i *instrumentedStore) IngestUsage(ctx context.Context, b *costexplorer.UsageBatch) (costexplorer.IngestResult, error) {
	start := time.Now()
	v0, err := i.s.IngestUsage(ctx, b)
	i.done("IngestUsage", start, err)
	return v0, err
}

func (i *instrumentedStore) DataVersion(ctx context.Context) (int64, error) {
	start := time.Now()
	v0, err := i.s.DataVersion(ctx)
	i.done("DataVersion", start, err)
	return v0, err
}

func (i *instrumentedStore) ScanRollup(ctx context.Context, fn func(*costexplorer.RollupRow) error) error {
	start := time.Now()
	err := i.s.ScanRollup(ctx, fn)
	i.done("ScanRollup", start, err)
	return err
}

func (i *instrumentedStore) ScanLineItems(ctx context.Context, fn func(*costexplorer.LineItem) error) error {
	start := time.Now()
	err := i.s.ScanLineItems(ctx, fn)
	i.done("ScanLineItems", start, err)
	return err
}

func (i *instrumentedStore) Projects(ctx context.Context) ([]*costexplorer.Project, error) {
	start := time.Now()
	v0, err := i.s.Projects(ctx)
	i.done("Projects", start, err)
	return v0, err
}

func (i *instrumentedStore) Clusters(ctx context.Context) ([]*costexplorer.Cluster, error) {
	start := time.Now()
	v0, err := i.s.Clusters(ctx)
	i.done("Clusters", start, err)
	return v0, err
}

func (i *instrumentedStore) UsageStats(ctx context.Context) (costexplorer.UsageStats, error) {
	start := time.Now()
	v0, err := i.s.UsageStats(ctx)
	i.done("UsageStats", start, err)
	return v0, err
}

func (i *instrumentedStore) CreateProcess(ctx context.Context, p *costexplorer.QueryProcess) (*costexplorer.QueryProcess, error) {
	start := time.Now()
	v0, err := i.s.CreateProcess(ctx, p)
	i.done("CreateProcess", start, err)
	return v0, err
}

func (i *instrumentedStore) Process(ctx context.Context, orgID, token string, now time.Time) (*costexplorer.QueryProcess, error) {
	start := time.Now()
	v0, err := i.s.Process(ctx, orgID, token, now)
	i.done("Process", start, err)
	return v0, err
}

func (i *instrumentedStore) ClaimProcess(ctx context.Context, owner string, now time.Time, lease time.Duration) (*costexplorer.QueryProcess, error) {
	start := time.Now()
	v0, err := i.s.ClaimProcess(ctx, owner, now, lease)
	i.done("ClaimProcess", start, err)
	return v0, err
}

func (i *instrumentedStore) FinishProcess(ctx context.Context, token, owner string, result []byte, now time.Time) error {
	start := time.Now()
	err := i.s.FinishProcess(ctx, token, owner, result, now)
	i.done("FinishProcess", start, err)
	return err
}

func (i *instrumentedStore) FailProcess(ctx context.Context, token, owner, message string, now time.Time) error {
	start := time.Now()
	err := i.s.FailProcess(ctx, token, owner, message, now)
	i.done("FailProcess", start, err)
	return err
}

func (i *instrumentedStore) ReleaseLeases(ctx context.Context, owner string) error {
	start := time.Now()
	err := i.s.ReleaseLeases(ctx, owner)
	i.done("ReleaseLeases", start, err)
	return err
}

func (i *instrumentedStore) DeleteExpiredProcesses(ctx context.Context, now time.Time) (int64, error) {
	start := time.Now()
	v0, err := i.s.DeleteExpiredProcesses(ctx, now)
	i.done("DeleteExpiredProcesses", start, err)
	return v0, err
}

func (i *instrumentedStore) ProcessCounts(ctx context.Context) (map[costexplorer.ProcessState]int64, error) {
	start := time.Now()
	v0, err := i.s.ProcessCounts(ctx)
	i.done("ProcessCounts", start, err)
	return v0, err
}

func (i *instrumentedStore) CreateAPIKey(ctx context.Context, k *costexplorer.APIKey) error {
	start := time.Now()
	err := i.s.CreateAPIKey(ctx, k)
	i.done("CreateAPIKey", start, err)
	return err
}

func (i *instrumentedStore) APIKeyByPublicKey(ctx context.Context, publicKey string) (*costexplorer.APIKey, error) {
	start := time.Now()
	v0, err := i.s.APIKeyByPublicKey(ctx, publicKey)
	i.done("APIKeyByPublicKey", start, err)
	return v0, err
}

func (i *instrumentedStore) APIKeys(ctx context.Context, orgID string) ([]*costexplorer.APIKey, error) {
	start := time.Now()
	v0, err := i.s.APIKeys(ctx, orgID)
	i.done("APIKeys", start, err)
	return v0, err
}

func (i *instrumentedStore) SetAPIKeyEnabled(ctx context.Context, publicKey string, enabled bool) error {
	start := time.Now()
	err := i.s.SetAPIKeyEnabled(ctx, publicKey, enabled)
	i.done("SetAPIKeyEnabled", start, err)
	return err
}

func (i *instrumentedStore) CreateServiceAccount(ctx context.Context, a *costexplorer.ServiceAccount) error {
	start := time.Now()
	err := i.s.CreateServiceAccount(ctx, a)
	i.done("CreateServiceAccount", start, err)
	return err
}

func (i *instrumentedStore) ServiceAccount(ctx context.Context, clientID string) (*costexplorer.ServiceAccount, error) {
	start := time.Now()
	v0, err := i.s.ServiceAccount(ctx, clientID)
	i.done("ServiceAccount", start, err)
	return v0, err
}

func (i *instrumentedStore) ServiceAccounts(ctx context.Context, orgID string) ([]*costexplorer.ServiceAccount, error) {
	start := time.Now()
	v0, err := i.s.ServiceAccounts(ctx, orgID)
	i.done("ServiceAccounts", start, err)
	return v0, err
}

func (i *instrumentedStore) SetServiceAccountEnabled(ctx context.Context, clientID string, enabled bool) error {
	start := time.Now()
	err := i.s.SetServiceAccountEnabled(ctx, clientID, enabled)
	i.done("SetServiceAccountEnabled", start, err)
	return err
}

func (i *instrumentedStore) Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	start := time.Now()
	v0, err := i.s.Secret(ctx, name, create)
	i.done("Secret", start, err)
	return v0, err
}

func (i *instrumentedStore) UseNonce(ctx context.Context, nonce string, nc uint32, expires time.Time) error {
	start := time.Now()
	err := i.s.UseNonce(ctx, nonce, nc, expires)
	i.done("UseNonce", start, err)
	return err
}

func (i *instrumentedStore) RevokeToken(ctx context.Context, jti string, expires time.Time) error {
	start := time.Now()
	err := i.s.RevokeToken(ctx, jti, expires)
	i.done("RevokeToken", start, err)
	return err
}

func (i *instrumentedStore) TokenRevoked(ctx context.Context, jti string) (bool, error) {
	start := time.Now()
	v0, err := i.s.TokenRevoked(ctx, jti)
	i.done("TokenRevoked", start, err)
	return v0, err
}

func (i *instrumentedStore) DeleteExpiredAuthState(ctx context.Context, now time.Time) error {
	start := time.Now()
	err := i.s.DeleteExpiredAuthState(ctx, now)
	i.done("DeleteExpiredAuthState", start, err)
	return err
}

func (i *instrumentedStore) Ping(ctx context.Context) error {
	start := time.Now()
	err := i.s.Ping(ctx)
	i.done("Ping", start, err)
	return err
}

// Close closes the store (not timed).
func (i *instrumentedStore) Close() error { return i.s.Close() }

func (i *instrumentedStore) Invoice(ctx context.Context, orgIDs []string, id string) (*costexplorer.Invoice, error) {
	start := time.Now()
	v0, err := i.s.Invoice(ctx, orgIDs, id)
	i.done("Invoice", start, err)
	return v0, err
}

func (i *instrumentedStore) Invoices(ctx context.Context, q *costexplorer.InvoiceListQuery, now time.Time) ([]*costexplorer.Invoice, int, error) {
	start := time.Now()
	v0, v1, err := i.s.Invoices(ctx, q, now)
	i.done("Invoices", start, err)
	return v0, v1, err
}

func (i *instrumentedStore) PendingInvoice(ctx context.Context, orgID string, now time.Time) (*costexplorer.Invoice, error) {
	start := time.Now()
	v0, err := i.s.PendingInvoice(ctx, orgID, now)
	i.done("PendingInvoice", start, err)
	return v0, err
}

func (i *instrumentedStore) InvoiceLines(ctx context.Context, invoiceID string, fn func(*costexplorer.InvoiceLine) error) error {
	start := time.Now()
	err := i.s.InvoiceLines(ctx, invoiceID, fn)
	i.done("InvoiceLines", start, err)
	return err
}

func (i *instrumentedStore) InvoiceTagKeys(ctx context.Context, invoiceID string) ([]string, error) {
	start := time.Now()
	v0, err := i.s.InvoiceTagKeys(ctx, invoiceID)
	i.done("InvoiceTagKeys", start, err)
	return v0, err
}

func (i *instrumentedStore) SearchLineItems(ctx context.Context, invoiceID string, s *costexplorer.LineItemSearch, page costexplorer.PageRequest) ([]*costexplorer.InvoiceLine, int, error) {
	start := time.Now()
	v0, v1, err := i.s.SearchLineItems(ctx, invoiceID, s, page)
	i.done("SearchLineItems", start, err)
	return v0, v1, err
}

func (i *instrumentedStore) InvoiceIDs(ctx context.Context) ([]costexplorer.InvoiceRef, error) {
	start := time.Now()
	v0, err := i.s.InvoiceIDs(ctx)
	i.done("InvoiceIDs", start, err)
	return v0, err
}
