package atlassync

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/costexplorer/costexplorer"
	"github.com/costexplorer/costexplorer/client"
)

// Line-item ids. An invoice CSV carries none, so a sync makes its own: the
// invoice's hash, then a number, big-endian, so that ids are unique across
// invoices and sort as the numbers do. Where a store orders items by id (an
// invoice's items within a project, cluster and day; a line-item search's
// ties within a day), the numbers decide the order.
//
// By default the number is the row's in the CSV, which is the source's
// order within a project, cluster and day: the invoice's JSON and CSV come
// out as the source's. A search orders the ties of a day across projects by
// the source's ids, which only the source's own search shows: with
// Config.ExactOrder the sync reads it (one request per 500 items) and
// numbers each item by its rank there, so that searches come out as the
// source's too.

// idPrefix is the first half of the ids of an invoice's items.
func idPrefix(invoiceID string) [8]byte {
	h := sha256.Sum256([]byte("atlas-sync\x00" + invoiceID))
	return [8]byte(h[:8])
}

func makeID(prefix [8]byte, n uint64) costexplorer.LineItemID {
	var id costexplorer.LineItemID
	copy(id[:8], prefix[:])
	binary.BigEndian.PutUint64(id[8:], n)
	return id
}

// rowIDs numbers the items of invoiceID by their row.
func rowIDs(invoiceID string) func(int, *costexplorer.LineItem) costexplorer.LineItemID {
	prefix := idPrefix(invoiceID)
	return func(row int, _ *costexplorer.LineItem) costexplorer.LineItemID { return makeID(prefix, uint64(row)) }
}

// itemKey is what a line-item search shows of an item, enough to find the
// CSV row it is (identical items are interchangeable).
type itemKey struct {
	usage, billed    costexplorer.Day
	project, cluster string
	description      string
	quantity         uint64 // the float's bits
	priceNanos       int64
	amount           costexplorer.Cents
}

// rankIDs numbers the items of an invoice by their rank in the source's
// search order: the ranks of each key, in order, consumed as the CSV's rows
// come. A row the search did not show (it should not happen) is numbered
// after every ranked item, by its row.
type rankIDs struct {
	prefix [8]byte
	ranks  map[itemKey][]uint32
}

func (r *rankIDs) id(row int, li *costexplorer.LineItem) costexplorer.LineItemID {
	k := itemKey{li.Date, li.Billed(), li.ProjectID, li.ClusterID, li.Description,
		math.Float64bits(li.Quantity), li.UnitPriceNanos, li.Amount}
	if q := r.ranks[k]; len(q) > 0 {
		r.ranks[k] = q[1:]
		return makeID(r.prefix, uint64(q[0]))
	}
	return makeID(r.prefix, 1<<32+uint64(row))
}

// sourceOrder reads the invoice's items as the source's search orders them
// (by usage day, then by the source's ids) and returns their ranks. It
// holds a key per item of the invoice in memory.
func (s *syncer) sourceOrder(ctx context.Context, u *unit, inv *client.Invoice) (*rankIDs, error) {
	r := &rankIDs{prefix: idPrefix(inv.ID), ranks: map[itemKey][]uint32{}}
	q := client.LineItemQuery{IncludeZeroCentLineItems: true, SortField: client.SortUsageDates, SortOrder: client.SortAscending}
	n := uint32(0)
	for li, err := range s.cfg.Client.AllLineItems(ctx, u.pathOrg, inv.ID, q, client.PageOptions{ItemsPerPage: 500}) {
		if err != nil {
			return nil, fmt.Errorf("search the line items: %w", err)
		}
		n++
		cluster := ""
		if li.ClusterName != "" && li.GroupID != "" {
			cluster = u.clusters.lookup(li.GroupID, li.ClusterName)
			if cluster == "" {
				cluster = costexplorer.ClusterIDFor(li.GroupID, li.ClusterName)
			}
		}
		k := itemKey{costexplorer.DayOf(li.UsageDate), costexplorer.DayOf(li.BillDate), li.GroupID, cluster, li.Description,
			math.Float64bits(li.Quantity), int64(math.Round(li.UnitPriceDollars * 1e9)), li.TotalPrice}
		r.ranks[k] = append(r.ranks[k], n)
	}
	return r, nil
}
