package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/costexplorer/costexplorer/client"
)

// apiOperation is one operation of `costexplorer api`.
type apiOperation struct {
	tag     string
	names   []string // the Atlas CLI operation ids, the first is the current one
	summary string
	run     func(ctx context.Context, m *Main, r *apiRun) error

	// The Invoices operations describe themselves here; the cost-explorer
	// and organization ones register their flags in runAPI.
	flags   func(fs *flag.FlagSet, a *apiArgs) // the operation's own flags
	version string                             // the default --version (client.DefaultAPIVersion when empty)
	noOrg   bool                               // the operation takes no organization (the SKU catalogue)
	alsoTag string                             // another tag the operation is found under
}

var apiOperations = append([]apiOperation{
	{tag: "invoices", names: []string{"createCostExplorerProcess", "createCostExplorerQueryProcess", "createOrgBillingCostExplorerUsageProcess"},
		summary: "create a cost-explorer query (POST …/billing/costExplorer/usage); the body comes from --file or standard input", run: runCreateUsage},
	{tag: "invoices", names: []string{"getCostExplorerUsage", "getCostExplorerQueryProcess", "getOrgBillingCostExplorerUsage"},
		summary: "get a query's usage details (GET …/billing/costExplorer/usage/{token}) as JSON or CSV", run: runGetUsage},
	{tag: "organizations", names: []string{"listOrganizations"}, summary: "list the organizations the caller can reach (GET /api/atlas/v2/orgs)", run: runListOrgs},
	{tag: "organizations", names: []string{"getOrganization"}, summary: "get one organization (GET /api/atlas/v2/orgs/{orgId})", run: runGetOrg},
}, invoiceOperations...)

// apiArgs are the parsed flags of an api operation.
type apiArgs struct {
	conn         connFlags
	orgID        string
	token        string
	invoiceID    string
	reportID     string
	skuID        string
	list         url.Values // the list parameters of the Invoices operations, as given
	file         string
	version      string
	output       string
	envelope     bool
	pretty       bool
	pageNum      int
	itemsPerPage int
	includeCount string
	name         string
	op           *apiOperation
}

func apiHelp(w io.Writer) {
	fmt.Fprintln(w, `Usage: costexplorer api <tag> <operation> [flags]

Calls the Atlas Administration API like the Atlas CLI's "atlas api" and prints the server's answer
body exactly as received. Operations (each line lists aliases of one operation):`)
	for _, op := range apiOperations {
		fmt.Fprintf(w, "  %s %s\n      %s\n", op.tag, strings.Join(op.names, " | "), op.summary)
	}
	fmt.Fprintln(w, `
Examples:
  echo '{"startDate":"2025-01-01","endDate":"2025-07-01","organizations":["ORG"],"groupBy":"organizations"}' \
    | costexplorer api invoices createCostExplorerProcess --orgId ORG
  costexplorer api invoices createCostExplorerProcess --orgId ORG --file body.json
  costexplorer api invoices getCostExplorerUsage --orgId ORG --token TOKEN --output csv
  costexplorer api organizations listOrganizations --itemsPerPage 10 --pretty
  costexplorer api invoices listInvoices --orgId ORG --statusNames PAID --fromDate 2025-01-01
  costexplorer api invoices downloadInvoiceCsv --orgId ORG --invoiceId INVOICE > invoice.csv
  echo '{"filters":{"skuServices":["Clusters"]}}' | costexplorer api invoices queryLineItemsFromSingleInvoice --orgId ORG --invoiceId INVOICE
  costexplorer api skus getSku --skuId ATLAS_AWS_INSTANCE_M10

Run 'costexplorer api <tag> <operation> --help' for the flags.

`+exitStatusHelp+`

`+connectionHelp)
}

func findAPIOperation(tag, name string) *apiOperation {
	for i := range apiOperations {
		op := &apiOperations[i]
		if (op.tag == tag || (op.alsoTag != "" && op.alsoTag == tag)) && slices.ContainsFunc(op.names, func(n string) bool { return strings.EqualFold(n, name) }) {
			return op
		}
	}
	return nil
}

func runAPI(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		apiHelp(m.Stderr)
		return &exitError{code: exitUsage, err: errors.New("")}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		apiHelp(m.Stdout)
		return nil
	}
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		return usageErrorf("name an operation of %q (run 'costexplorer api --help' for the list)", args[0])
	}
	op := findAPIOperation(args[0], args[1])
	if op == nil {
		return usageErrorf("unknown operation %q %q (run 'costexplorer api --help' for the list)", args[0], args[1])
	}
	a := &apiArgs{op: op, list: url.Values{}}
	defVersion := client.DefaultAPIVersion
	if op.version != "" {
		defVersion = op.version
	}
	fs := m.newFlagSet("api "+op.tag+" "+op.names[0], "api "+op.tag+" "+op.names[0]+" [flags]\n\n"+op.summary+
		"\nAliases: "+strings.Join(op.names, ", "), apiExamples(op)...)
	a.conn.register(fs, "orgId", &a.orgID)
	fs.StringVar(&a.version, "version", defVersion, "API version of the Accept header: a date YYYY-MM-DD, or preview")
	fs.BoolVar(&a.pretty, "pretty", false, "ask the server for indented JSON (?pretty=true)")
	fs.BoolVar(&a.envelope, "envelope", false, "ask the server to wrap the answer with its status (?envelope=true)")
	switch op.names[0] {
	case "createCostExplorerProcess":
		fs.StringVar(&a.file, "file", "", "request body file (CostExplorerFilterRequestBody JSON); '-' or absent: standard input")
	case "getCostExplorerUsage":
		fs.StringVar(&a.token, "token", "", "the query token returned by createCostExplorerProcess")
		fs.StringVar(&a.output, "output", "json", "answer format: json or csv")
	case "listOrganizations":
		fs.IntVar(&a.pageNum, "pageNum", 0, "page number, from 1")
		fs.IntVar(&a.itemsPerPage, "itemsPerPage", 0, "items per page, 1–500")
		fs.StringVar(&a.includeCount, "includeCount", "", "true or false: count the items")
		fs.StringVar(&a.name, "name", "", "organization name prefix")
	}
	if op.flags != nil {
		op.flags(fs, a)
	}
	conn, err := a.conn.parse(m, args[2:], "")
	if err != nil {
		return err
	}
	if a.orgID == "" && op.names[0] != "listOrganizations" && !op.noOrg {
		return usageErrorf("--orgId is required (or set COSTEXPLORER_ORG_ID)")
	}
	if _, err := time.Parse(time.DateOnly, a.version); err != nil && a.version != client.PreviewVersion {
		return usageErrorf("--version %q is not a date YYYY-MM-DD nor %q", a.version, client.PreviewVersion)
	}
	conn.Version = a.version
	c, err := m.newClient(conn)
	if err != nil {
		return err
	}
	return op.run(ctx, m, &apiRun{apiArgs: a, c: c})
}

func apiExamples(op *apiOperation) []string {
	if ex := invoiceExamples[op.names[0]]; ex != nil {
		return ex
	}
	switch op.names[0] {
	case "createCostExplorerProcess":
		return []string{
			"costexplorer api invoices " + op.names[0] + " --orgId ORG --file body.json",
			`echo '{"startDate":"2025-01-01","endDate":"2025-07-01","services":["Clusters"],"groupBy":"services"}' | costexplorer api invoices ` + op.names[0] + " --orgId ORG",
		}
	case "getCostExplorerUsage":
		return []string{
			"costexplorer api invoices " + op.names[0] + " --orgId ORG --token TOKEN",
			"costexplorer api invoices " + op.names[0] + " --orgId ORG --token TOKEN --output csv > usage.csv",
			"costexplorer api invoices " + op.names[0] + " --orgId ORG --token TOKEN --envelope   # {\"status\":102,…} while processing",
		}
	case "listOrganizations":
		return []string{"costexplorer api organizations listOrganizations --pretty"}
	default:
		return []string{"costexplorer api organizations getOrganization --orgId ORG"}
	}
}

// apiRun is an operation about to run.
type apiRun struct {
	*apiArgs
	c *client.Client
}

// query returns the common query parameters the flags ask for.
func (r *apiRun) query(extra url.Values) string {
	v := url.Values{}
	for k, vals := range extra {
		v[k] = vals
	}
	if r.pretty {
		v.Set("pretty", "true")
	}
	if r.envelope {
		v.Set("envelope", "true")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func runCreateUsage(ctx context.Context, m *Main, r *apiRun) error {
	return r.send(ctx, m, http.MethodPost, client.UsagePath(r.orgID, "")+r.query(nil))
}

// send sends method path with the body of --file and prints the answer.
func (r *apiRun) send(ctx context.Context, m *Main, method, path string) error {
	req, err := r.withBody(ctx, m, method, path)
	if err != nil {
		return err
	}
	return m.printAnswer(r, req, false)
}

// withBody is the request method path with the body of --file (standard
// input for "-").
func (r *apiRun) withBody(ctx context.Context, m *Main, method, path string) (*http.Request, error) {
	body, err := m.readBody(r.file)
	if err != nil {
		return nil, err
	}
	req, err := r.c.NewRequest(ctx, method, path, body)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return req, nil
}

// readBody reads a request body from a file, or from standard input when
// the name is empty or "-".
func (m *Main) readBody(name string) ([]byte, error) {
	if name == "" || name == "-" {
		if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return nil, usageErrorf("give the request body with --file FILE or on standard input")
		}
		b, err := io.ReadAll(io.LimitReader(m.Stdin, 16<<20))
		if err != nil {
			return nil, usageErrorf("read standard input: %v", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usageErrorf("read --file: %v", err)
	}
	return b, nil
}

func runGetUsage(ctx context.Context, m *Main, r *apiRun) error {
	if r.token == "" {
		return usageErrorf("--token is required")
	}
	if r.output != "json" && r.output != "csv" {
		return usageErrorf("--output must be json or csv")
	}
	req, err := r.c.NewRequest(ctx, http.MethodGet, client.UsagePath(r.orgID, r.token)+r.query(nil), nil)
	if err != nil {
		return usageErrorf("%v", err)
	}
	req.Header.Set("Accept", r.c.MediaType(r.output))
	return m.printAnswer(r, req, true)
}

func runListOrgs(ctx context.Context, m *Main, r *apiRun) error {
	v := url.Values{}
	if r.pageNum != 0 {
		v.Set("pageNum", strconv.Itoa(r.pageNum))
	}
	if r.itemsPerPage != 0 {
		v.Set("itemsPerPage", strconv.Itoa(r.itemsPerPage))
	}
	if r.includeCount != "" {
		v.Set("includeCount", r.includeCount)
	}
	if r.name != "" {
		v.Set("name", r.name)
	}
	req, err := r.c.NewRequest(ctx, http.MethodGet, "/api/atlas/v2/orgs"+r.query(v), nil)
	if err != nil {
		return usageErrorf("%v", err)
	}
	return m.printAnswer(r, req, false)
}

func runGetOrg(ctx context.Context, m *Main, r *apiRun) error {
	req, err := r.c.NewRequest(ctx, http.MethodGet, "/api/atlas/v2/orgs/"+url.PathEscape(r.orgID)+r.query(nil), nil)
	if err != nil {
		return usageErrorf("%v", err)
	}
	return m.printAnswer(r, req, false)
}

// printAnswer sends req and prints the answer body exactly as received: on
// standard output for a success, on standard error after a one-line summary
// for an error. usage says the answer may be a processing one: an empty 200
// (the final answer after 102 Processing) or a 102 envelope.
func (m *Main) printAnswer(r *apiRun, req *http.Request, usage bool) error {
	return m.answer(r, req, usage, nil)
}

// printAnswerTo is printAnswer for a success body written to the file open
// creates (only once the answer is a success) rather than to standard output.
func (m *Main) printAnswerTo(r *apiRun, req *http.Request, open func() (io.WriteCloser, error)) error {
	return m.answer(r, req, false, open)
}

func (m *Main) answer(r *apiRun, req *http.Request, usage bool, open func() (io.WriteCloser, error)) error {
	resp, err := r.c.Do(req)
	if err != nil {
		return classify(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, rerr := io.ReadAll(resp.Body)
		if rerr != nil {
			return classify(rerr)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		apiErr := client.ParseAPIError(resp)
		fmt.Fprintf(m.Stderr, "Error: %v\n", apiErr)
		_, _ = m.Stderr.Write(body)
		if len(body) > 0 && body[len(body)-1] != '\n' {
			fmt.Fprintln(m.Stderr)
		}
		return classify(&exitError{code: classifyCode(apiErr), err: errors.New("")})
	}
	if open != nil {
		f, err := open()
		if err != nil {
			return err
		}
		_, err = io.Copy(f, resp.Body)
		return classify(errors.Join(err, f.Close()))
	}
	if !usage {
		_, err := io.Copy(m.Stdout, resp.Body)
		return classify(err)
	}
	// A usage answer is read whole first: an empty one means processing.
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return classify(err)
	}
	if processingAnswer(body) {
		_, _ = m.Stdout.Write(body)
		msg := "query " + r.token + " is still processing; try again"
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			msg += " in " + ra + " s"
		}
		return &exitError{code: exitProcessing, err: errors.New(msg)}
	}
	_, err = m.Stdout.Write(body)
	return classify(err)
}

// processingAnswer reports whether a 2xx usage body says "processing": empty
// (the 200 after an interim 102), or an envelope with status 102.
func processingAnswer(body []byte) bool {
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	var env struct {
		Status *int `json:"status"`
	}
	return json.Unmarshal(body, &env) == nil && env.Status != nil && *env.Status == http.StatusProcessing
}
