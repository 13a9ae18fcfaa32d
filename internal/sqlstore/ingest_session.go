package sqlstore

import (
	"context"
	"errors"

	"github.com/costexplorer/costexplorer"
)

// An ingest is a transaction that takes one or more chunks (add) and then
// commits (commit): IngestUsage is a session of one chunk, and a
// [Session] feeds its chunks one by one, so that both follow the same rules
// and a session's result is that of one IngestUsage of all its chunks.
//
// Each chunk resolves and inserts its items at once; what must move once per
// ingest waits for the commit, summed over the chunks: the monthly rollup
// cells (one per month, organization, project, cluster and service), the
// invoices' amounts (one per invoice) and the running totals. The invoices'
// item counts (one per invoice, project, cluster and SKU), far more
// numerous, wait for it too, up to countsBound of them.

// beginTx takes the data lock and opens the bulk path: the start of an
// ingest's transaction. The caller closes t.bulk.
func (s *Store) beginTx(ctx context.Context, q Querier, opts *IngestOptions) (*ingestTx, error) {
	if err := s.d.lockData(ctx, q); err != nil {
		return nil, err
	}
	bulk, err := opts.Begin(ctx, q)
	if err != nil {
		return nil, err
	}
	t := &ingestTx{s: s, ctx: ctx, q: q, bulk: bulk, opts: opts}
	t.Resolver = NewResolver(opts.Cache, t, s.services.Code)
	return t, nil
}

// add ingests one chunk: its dimensions, its items (those stored already,
// by an earlier transaction or an earlier chunk, are duplicates) with their
// invoices and dictionaries, and its invoice metadata.
func (t *ingestTx) add(b *costexplorer.UsageBatch) error {
	if err := t.upsertDimensions(b); err != nil {
		return err
	}
	rows, err := t.ResolveItems(b.Items)
	if err != nil {
		return err
	}
	refs, err := t.resolveInvoices(rows, b.Invoices)
	if err != nil {
		return err
	}
	if err := t.resolveDicts(rows); err != nil {
		return err
	}
	if err := t.listReplaced(b, rows); err != nil {
		return err
	}
	unique, err := t.restateItems(UniqueItems(rows))
	if err != nil {
		return err
	}
	inserted, err := t.bulk.InsertItems(t.ctx, unique)
	if err != nil {
		return err
	}
	t.inserted += len(inserted)
	t.duplicates += len(rows) - len(inserted)
	t.delta.Add(inserted)
	t.totals = t.totals.Plus(TotalsOf(inserted))
	if len(t.delta.counts) >= countsBound {
		if err := t.addCounts(t.delta.TakeCounts()); err != nil {
			return err
		}
	}
	// The invoices' dictionary lists now; their amounts at the commit.
	if err := t.addInvoices(nil, inserted); err != nil {
		return err
	}
	if err := t.recordInvoices(b.Invoices, refs); err != nil {
		return err
	}
	return t.recordMarks(b.Synced)
}

// countsBound is how many changed item counts (rows of invoice_item_counts:
// one an invoice, project, cluster and SKU) an ingest keeps for its commit:
// beyond it, a chunk adds them to the table at once and forgets them. They
// grow with the resources a file names, not its rows, but a large
// organization's file names many (a million in the 10 M-row benchmark file,
// about 100 bytes each in memory): kept to the commit, they were most of the
// importer's growth. Sums are added, so adding them in parts leaves the
// table as one addition would (a row a restatement left at zero goes in
// either case, see addCounts). A variable for tests.
var countsBound = 1 << 17

// commit ends the restatement of the replaced invoices, moves the rollup,
// the invoices' amounts, their item counts and the running totals by what
// the chunks inserted and removed, and returns the ingest's result.
func (t *ingestTx) commit() (costexplorer.IngestResult, error) {
	if err := t.sweepReplaced(); err != nil {
		return costexplorer.IngestResult{}, err
	}
	res := costexplorer.IngestResult{Inserted: t.inserted, Duplicates: t.duplicates, Removed: t.restate.removed.Items}
	cells := t.delta.Cells()
	if err := t.addRollup(cells); err != nil {
		return res, err
	}
	if err := t.pruneRollup(t.delta.Shrunk()); err != nil {
		return res, err
	}
	res.Deltas = t.RollupRows(cells, t.s.services.Name)
	if err := t.addInvoices(t.delta.Invoices(), nil); err != nil {
		return res, err
	}
	if err := t.addCounts(t.delta.Counts()); err != nil {
		return res, err
	}
	if err := t.stampInvoices(); err != nil {
		return res, err
	}
	var err error
	res.DataVersion, err = t.finish(t.totals, t.restate.removed)
	return res, err
}

// Plus returns the totals of both sets of items.
func (a Totals) Plus(b Totals) Totals {
	switch {
	case b.Items == 0:
		return a
	case a.Items == 0:
		return b
	}
	return Totals{Items: a.Items + b.Items, Cents: a.Cents + b.Cents, FirstDay: min(a.FirstDay, b.FirstDay), LastDay: max(a.LastDay, b.LastDay)}
}

// ErrSessionOver is returned (wrapped) by a session's Add and Commit once it
// has ended: committed, rolled back, or failed.
var ErrSessionOver = errors.New("the ingest session is over")

// Session is an ingest in chunks over one write transaction (see
// [costexplorer.UsageSession]). The transaction runs in a goroutine of its
// own, the one that called the dialect's WriteTx, which takes the chunks over
// a channel; the caller's goroutine meanwhile prepares the next chunk. A
// session is used by one goroutine at a time.
type Session struct {
	reqs chan sessionReq
	done chan struct{} // closed once the transaction has ended
	err  error         // why it ended, once done
}

// sessionReq is a chunk to add (b), the commit, or the rollback.
type sessionReq struct {
	b        *costexplorer.UsageBatch
	commit   bool
	reply    chan error
	res      *costexplorer.IngestResult
	rollback bool
}

// errRollback ends a transaction that its session's owner abandoned.
var errRollback = errors.New("ingest session rolled back")

// BeginIngest opens a session with the dialect's options; it has begun its
// transaction and taken the data lock when it returns. The session ends on
// Commit, Rollback, an error, or when ctx is done.
func (s *Store) BeginIngest(ctx context.Context, opts IngestOptions) (*Session, error) {
	ss := &Session{reqs: make(chan sessionReq), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		defer close(ss.done)
		var (
			t       *ingestTx
			pending *sessionReq // the request that ended the transaction
			res     costexplorer.IngestResult
		)
		err := opts.writeTx(s)(ctx, func(q Querier) error {
			var err error
			if t, err = s.beginTx(ctx, q, &opts); err != nil {
				return err
			}
			defer t.bulk.Close()
			ready <- nil
			for {
				var req sessionReq
				select {
				case req = <-ss.reqs:
				case <-ctx.Done():
					return ctx.Err()
				}
				switch {
				case req.rollback:
					pending = &req
					return errRollback
				case req.commit:
					pending = &req
					res, err = t.commit()
					return err
				}
				if err := req.b.Validate(); err != nil {
					pending = &req
					return err
				}
				if err := t.add(req.b); err != nil {
					pending = &req
					return err
				}
				req.reply <- nil
			}
		})
		if t == nil {
			ready <- err
		}
		if err == nil && opts.Cache != nil {
			opts.Cache.Merge(&t.Keys)
		}
		switch {
		case err == nil:
			ss.err = ErrSessionOver
		case errors.Is(err, errRollback):
			ss.err, err = ErrSessionOver, nil
		default:
			ss.err = err
		}
		if pending != nil {
			if pending.res != nil {
				*pending.res = res
			}
			pending.reply <- err
		}
	}()
	if err := <-ready; err != nil {
		<-ss.done
		return nil, err
	}
	return ss, nil
}

// call hands req to the transaction's goroutine and waits for its answer.
func (ss *Session) call(req sessionReq) error {
	req.reply = make(chan error, 1)
	select {
	case ss.reqs <- req:
		return <-req.reply
	case <-ss.done:
		if errors.Is(ss.err, ErrSessionOver) {
			return ss.err
		}
		return errors.Join(ErrSessionOver, ss.err)
	}
}

// Add ingests b in the session's transaction; an error rolls it back.
func (ss *Session) Add(ctx context.Context, b *costexplorer.UsageBatch) error {
	if err := ctx.Err(); err != nil {
		ss.Rollback()
		return err
	}
	return ss.call(sessionReq{b: b})
}

// Commit commits the session's transaction.
func (ss *Session) Commit(ctx context.Context) (costexplorer.IngestResult, error) {
	if err := ctx.Err(); err != nil {
		ss.Rollback()
		return costexplorer.IngestResult{}, err
	}
	var res costexplorer.IngestResult
	if err := ss.call(sessionReq{commit: true, res: &res}); err != nil {
		return costexplorer.IngestResult{}, err
	}
	return res, nil
}

// Rollback rolls the session's transaction back if it is still open, and
// returns once it has ended.
func (ss *Session) Rollback() {
	select {
	case ss.reqs <- sessionReq{rollback: true, reply: make(chan error, 1)}:
	case <-ss.done:
	}
	<-ss.done
}

var _ costexplorer.UsageSession = (*Session)(nil)
