package client

import "github.com/costexplorer/costexplorer"

// The types and constants the client shares with the costexplorer domain
// package, so that callers need only import this one.

// Cost-explorer types.
type (
	// Month is a calendar month; costexplorer.MakeMonth(2025, time.June)
	// or [MakeMonth] builds one.
	Month = costexplorer.Month
	// Cents is an exact amount of US cents.
	Cents = costexplorer.Cents
	// Service is a cost-explorer service name ("Clusters", "Backup", …).
	Service = costexplorer.Service
	// GroupBy is the dimension a query groups its rows by.
	GroupBy = costexplorer.GroupBy
	// Row is one row of a result: one group's usage in one month. Its
	// UsageAmount is exact (integer cents parsed from the decimal dollars).
	Row = costexplorer.Row
)

// The groupBy values.
const (
	GroupByNone          = costexplorer.GroupByNone
	GroupByOrganizations = costexplorer.GroupByOrganizations
	GroupByProjects      = costexplorer.GroupByProjects
	GroupByClusters      = costexplorer.GroupByClusters
	GroupByServices      = costexplorer.GroupByServices
)

// Invoice statuses and sort keys, shared with the costexplorer domain.
type (
	// InvoiceStatus is an invoice's statusName (PENDING, CLOSED, INVOICED,
	// PAID, FREE, FAILED, FORGIVEN, PREPAID).
	InvoiceStatus = costexplorer.InvoiceStatus
	// InvoiceSortField is the sortBy of a list of invoices.
	InvoiceSortField = costexplorer.InvoiceSortField
	// SortOrder is the orderBy of a list of invoices (asc, desc).
	SortOrder = costexplorer.SortOrder
	// LineItemSortField is the sortField of a line-item search.
	LineItemSortField = costexplorer.LineItemSortField
	// LineItemSortOrder is the sortOrder of a line-item search.
	LineItemSortOrder = costexplorer.LineItemSortOrder
)

// The invoice statuses, sort keys and orders.
const (
	InvoicePending  = costexplorer.InvoicePending
	InvoiceClosed   = costexplorer.InvoiceClosed
	InvoiceInvoiced = costexplorer.InvoiceInvoiced
	InvoicePaid     = costexplorer.InvoicePaid
	InvoiceFree     = costexplorer.InvoiceFree
	InvoiceFailed   = costexplorer.InvoiceFailed
	InvoiceForgiven = costexplorer.InvoiceForgiven
	InvoicePrepaid  = costexplorer.InvoicePrepaid

	SortByStartDate = costexplorer.InvoiceSortStartDate
	SortByEndDate   = costexplorer.InvoiceSortEndDate
	OrderAsc        = costexplorer.SortAsc
	OrderDesc       = costexplorer.SortDesc

	SortUsageDates      = costexplorer.SortUsageDates
	SortBillDates       = costexplorer.SortBillDates
	SortTotalPriceCents = costexplorer.SortTotalPriceCents
	SortAscending       = costexplorer.SortAscending
	SortDescending      = costexplorer.SortDescending
)

// Types of usage queries, shared with the costexplorer domain.
type (
	// UsageQueryRequest is the body of a usage query.
	UsageQueryRequest = costexplorer.UsageQueryRequest
	// TimePeriod is a window of days: Start inclusive, End exclusive,
	// written YYYY-MM-DD.
	TimePeriod = costexplorer.TimePeriod
	// Granularity is DAILY or MONTHLY.
	Granularity = costexplorer.Granularity
	// Dimension is a group-by or filter dimension: organizations,
	// projects, clusters, services, skus or tag:KEY.
	Dimension = costexplorer.Dimension
	// Filter is a filter expression (and, or, not, or a leaf testing one
	// dimension with In or Absent).
	Filter = costexplorer.Filter
	// Metric is amount or quantity.
	Metric = costexplorer.Metric
	// UsageAnswer is one page of a usage query's answer.
	UsageAnswer = costexplorer.UsageAnswer
	// UsageResult is one row of an answer: the period's first day, the
	// group per group-by dimension, the amount in dollars and cents.
	UsageResult = costexplorer.UsageResult
)

// The granularities.
const (
	Daily   = costexplorer.Daily
	Monthly = costexplorer.Monthly
)

// Types of forecasts, shared with the costexplorer domain.
type (
	// UsageForecastRequest is the body of a forecast: an optional group-by
	// (one dimension), filter and forecast day (YYYY-MM-DD; the server's
	// today when empty).
	UsageForecastRequest = costexplorer.UsageForecastRequest
	// UsageForecast is the answer: the forecast day, the intervals'
	// coverage and one GroupForecast per group.
	UsageForecast = costexplorer.UsageForecast
	// GroupForecast is one group's key and its months.
	GroupForecast = costexplorer.GroupForecast
	// MonthForecast is one month: the point estimate, the interval's
	// bounds and what was spent before the forecast day, in cents.
	MonthForecast = costexplorer.MonthForecast
)
