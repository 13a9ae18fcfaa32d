package jobs

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/costexplorer/costexplorer"
)

// appendResult appends the JSON of costexplorer.Result{UsageDetails: rows}
// to b, byte for byte what json.Marshal writes for it, without its
// reflection: a large result (thousands of rows, megabytes) is encoded once
// per query, on the path between a query's creation and its result.
func appendResult(b []byte, rows []costexplorer.Row) []byte {
	if rows == nil {
		return append(b, `{"usageDetails":null}`...)
	}
	b = append(b, `{"usageDetails":[`...)
	for i := range rows {
		r := &rows[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"usageDate":`...)
		b = appendString(b, r.UsageDate)
		b = appendField(b, `,"invoiceId":`, r.InvoiceID)
		b = appendField(b, `,"organizationId":`, r.OrganizationID)
		b = appendField(b, `,"organizationName":`, r.OrganizationName)
		b = appendField(b, `,"projectId":`, r.ProjectID)
		b = appendField(b, `,"projectName":`, r.ProjectName)
		b = appendField(b, `,"clusterId":`, r.ClusterID)
		b = appendField(b, `,"clusterName":`, r.ClusterName)
		b = appendField(b, `,"service":`, string(r.Service))
		b = append(b, `,"usageAmount":`...)
		b = appendDollars(b, r.UsageAmount)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendField appends an omitempty string member.
func appendField(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(append(b, key...), v)
}

// appendString appends s as a JSON string. Printable ASCII that
// encoding/json writes as is (everything but the quote, the backslash and,
// as it escapes HTML by default, <, > and &) is copied; any other string
// goes through encoding/json, so the escapes are its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil { // a string always encodes
				panic(err)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendDollars appends c as Cents.MarshalJSON writes it: dollars with two
// decimals.
func appendDollars(b []byte, c costexplorer.Cents) []byte {
	v := int64(c)
	if v == math.MinInt64 {
		return append(b, c.Dollars()...)
	}
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/100, 10)
	cents := v % 100
	return append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
}
