package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer/client"
)

// Create a query with an API key, wait for it, and read the rows. The
// examples run against a real server started by the tests (baseURL, orgID
// and the credentials are its); the query window lies in the demo data,
// which ends in June 2025.
func Example() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithDigest(publicKey, privateKey))
	if err != nil {
		log.Fatal(err)
	}
	token, err := c.CreateQuery(ctx, orgID, client.QueryRequest{
		Start:         client.MakeMonth(2025, time.April), // April…
		End:           client.MakeMonth(2025, time.July),  // …to June, inclusive
		Organizations: []string{orgID},
		GroupBy:       client.GroupByOrganizations,
	})
	if err != nil {
		log.Fatal(err)
	}
	usage, err := c.WaitForUsage(ctx, orgID, token)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range usage.Rows {
		fmt.Printf("%s %-16s %10s\n", r.UsageDate, r.OrganizationName, r.UsageAmount)
	}
	fmt.Println("total", usage.Total())
	// Output:
	// 2025-04-01 Acme Payments       3564.46
	// 2025-05-01 Acme Payments       3589.45
	// 2025-06-01 Acme Payments       3231.01
	// total 10384.92
}

// A service account authenticates with OAuth client credentials; the client
// fetches, caches and renews the access token.
func ExampleWithServiceAccount() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithServiceAccount(clientID, clientSecret))
	if err != nil {
		log.Fatal(err)
	}
	org, err := c.Organization(ctx, orgID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(org.Name)
	// Output:
	// Acme Payments
}

// The CSV form of a result is a stream, header line first.
func ExampleClient_WaitForUsageCSV() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithDigest(publicKey, privateKey))
	if err != nil {
		log.Fatal(err)
	}
	token, err := c.CreateQuery(ctx, orgID, client.QueryRequest{
		Start:    client.MakeMonth(2025, time.May),
		End:      client.MakeMonth(2025, time.July),
		Services: []client.Service{"Clusters", "Backup"},
		GroupBy:  client.GroupByServices,
	})
	if err != nil {
		log.Fatal(err)
	}
	csv, err := c.WaitForUsageCSV(ctx, orgID, token)
	if err != nil {
		log.Fatal(err)
	}
	defer csv.Close()
	if _, err := io.Copy(os.Stdout, csv); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Billed Date,Invoice Id,Organization Name,Organization ID,Project Name,Project Id,Cluster Name,Cluster Unique Id,Service,Usage Amount
	// 2025-05-01,23b4c30b58e5385a0728ff4c,Acme Payments,e5ed5554a0e1070badda8dff,,,,,Backup,20.26
	// 2025-05-01,d4ac1ca9bb00bc6c834b45bb,Vandelay Games,4e538a185d513a715d2653f0,,,,,Backup,133.74
	// 2025-05-01,23b4c30b58e5385a0728ff4c,Acme Payments,e5ed5554a0e1070badda8dff,,,,,Clusters,190.96
	// 2025-05-01,8837866a9ab28111b63cc72c,Umbrella Labs,fb704bd2533aa017fd5d3f9c,,,,,Clusters,8.37
	// 2025-05-01,d4ac1ca9bb00bc6c834b45bb,Vandelay Games,4e538a185d513a715d2653f0,,,,,Clusters,2445.96
	// 2025-06-01,62ede12b0e3f077529d08147,Acme Payments,e5ed5554a0e1070badda8dff,,,,,Backup,10.16
	// 2025-06-01,5d73c7e5c3ce2c022aaa5fad,Vandelay Games,4e538a185d513a715d2653f0,,,,,Backup,65.68
	// 2025-06-01,62ede12b0e3f077529d08147,Acme Payments,e5ed5554a0e1070badda8dff,,,,,Clusters,92.40
	// 2025-06-01,7bfea580bdd40fbc9f12a26b,Umbrella Labs,fb704bd2533aa017fd5d3f9c,,,,,Clusters,4.05
	// 2025-06-01,5d73c7e5c3ce2c022aaa5fad,Vandelay Games,4e538a185d513a715d2653f0,,,,,Clusters,1189.80
}

// Ask what each team spent on production clusters, day by day: the
// project's own usage query, beyond the Atlas cost explorer.
func ExampleClient_AllUsage() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithServiceAccount(clientID, clientSecret))
	if err != nil {
		log.Fatal(err)
	}
	req := client.UsageQueryRequest{
		Granularity: client.Daily,
		TimePeriod:  client.TimePeriod{Start: "2025-06-01", End: "2025-06-03"},
		GroupBy:     []client.Dimension{"tag:team"},
		Filter: &client.Filter{And: []*client.Filter{
			{Dimension: "tag:environment", In: []string{"production"}},
			{Dimension: "services", In: []string{"Clusters"}},
		}},
	}
	for r, err := range c.AllUsage(ctx, orgID, req) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %-8s %9s\n", r.Start, r.Groups["tag:team"].Name, r.Amount.Grouped("$"))
	}
	// Output:
	// 2025-06-01 data        $40.44
	// 2025-06-01 growth      $38.88
	// 2025-06-02 data        $40.44
	// 2025-06-02 growth      $38.88
}

// Errors the server reports are *APIError values.
func ExampleAPIError() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithDigest(publicKey, privateKey))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.CreateQuery(ctx, orgID, client.QueryRequest{
		Start:   client.MakeMonth(2025, time.April),
		End:     client.MakeMonth(2025, time.July),
		GroupBy: client.GroupByProjects, // but no projects given
	})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.ErrorCode)
		fmt.Println(apiErr.Detail)
		for _, f := range apiErr.Fields {
			fmt.Println("field:", f.Field)
		}
	}
	// Output:
	// 400 VALIDATION_ERROR
	// groupBy projects needs at least one value in the projects filter.
	// field: groupBy
}

// Iterate over every organization the caller can reach, page by page.
func ExampleClient_AllOrganizations() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithDigest(publicKey, privateKey))
	if err != nil {
		log.Fatal(err)
	}
	for org, err := range c.AllOrganizations(ctx, client.ListOptions{ItemsPerPage: 100}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(org.ID == orgID, org.Name)
	}
	// Output:
	// true Acme Payments
}

// List an organization's invoices, every page, with exact amounts in cents.
func ExampleClient_AllInvoices() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithDigest(publicKey, privateKey))
	if err != nil {
		log.Fatal(err)
	}
	opts := client.InvoiceListOptions{
		FromDate:     time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC),
		SortBy:       client.SortByStartDate,
		OrderBy:      client.OrderAsc,
		ItemsPerPage: 2, // the iterator fetches the pages
	}
	for inv, err := range c.AllInvoices(ctx, orgID, opts) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %-8s billed %9s paid %9s, %d linked\n",
			inv.Month(), inv.StatusName, inv.AmountBilled.Grouped("$"), inv.AmountPaid.Grouped("$"), len(inv.LinkedInvoices))
	}
	// Output:
	// 2025-03 PAID     billed $3,566.86 paid $3,566.86, 2 linked
	// 2025-04 PAID     billed $3,564.46 paid $3,564.46, 2 linked
	// 2025-05 INVOICED billed $3,589.45 paid     $0.00, 2 linked
	// 2025-06 PENDING  billed $3,231.01 paid     $0.00, 2 linked
}

// Stream an invoice's CSV, as Atlas serves it, to any io.Writer: a file, a
// pipe, an HTTP response. Memory stays constant whatever its size.
func ExampleClient_InvoiceCSV() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithDigest(publicKey, privateKey))
	if err != nil {
		log.Fatal(err)
	}
	page, err := c.Invoices(ctx, orgID, client.InvoiceListOptions{StatusNames: []client.InvoiceStatus{client.InvoicePending}})
	if err != nil {
		log.Fatal(err)
	}
	var csv strings.Builder
	if _, err := c.InvoiceCSV(ctx, orgID, page.Results[0].ID, &csv); err != nil {
		log.Fatal(err)
	}
	lines := strings.Split(csv.String(), "\n")
	fmt.Println(strings.Join(lines[:7], "\n"))
	// Output:
	// Invoice Number,62ede12b0e3f077529d08147,
	// Billing Period,"June 1, 2025 - July 1, 2025",
	// Organization Name,Acme Payments,
	// Organization ID,e5ed5554a0e1070badda8dff,
	//
	// Date,Usage Date,Description,Note,Organization Name,Organization ID,Project,Project ID,SKU,Region,Cluster,Replica Set,Config Server,Application,Unit,Unit Price,Quantity,Discount Percent,Amount,cost-center,environment,team
	// ,06/01/2025,Credit,,Acme Payments,e5ed5554a0e1070badda8dff,,,CREDIT,,,,,,credits,-$1.00,1100,,-$1100.00,,,
}

// Search an invoice's line items: the three largest cluster charges.
func ExampleClient_SearchLineItems() {
	ctx := context.Background()
	c, err := client.New(baseURL, client.WithDigest(publicKey, privateKey))
	if err != nil {
		log.Fatal(err)
	}
	page, err := c.Invoices(ctx, orgID, client.InvoiceListOptions{StatusNames: []client.InvoiceStatus{client.InvoicePending}})
	if err != nil {
		log.Fatal(err)
	}
	items, err := c.SearchLineItems(ctx, orgID, page.Results[0].ID, client.LineItemQuery{
		SKUServices: []string{"Clusters"},
		SortField:   client.SortTotalPriceCents,
		SortOrder:   client.SortDescending,
	}, client.PageOptions{ItemsPerPage: 3})
	if err != nil {
		log.Fatal(err)
	}
	for _, li := range items.Results {
		fmt.Printf("%s %-18s %s\n", li.UsageDate.Format(time.DateOnly), li.ClusterName, li.TotalPrice.Grouped("$"))
	}
	fmt.Println(items.TotalCount, "cluster items in all")
	// Output:
	// 2025-06-15 cache-uksouth-1    $6.16
	// 2025-06-14 cache-uksouth-1    $6.16
	// 2025-06-13 cache-uksouth-1    $6.16
	// 15 cluster items in all
}
