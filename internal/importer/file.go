package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/costexplorer/costexplorer"
)

// Summary reports one imported file: its rows, how many were new line items
// and how many were already stored (a re-import), and the sum of its amounts.
type Summary struct {
	File       string
	Rows       int
	Inserted   int
	Duplicates int
	Total      costexplorer.Cents
}

// ImportFile imports the file at path (see Import). path must name a
// regular file (not a directory, device or pipe).
func ImportFile(ctx context.Context, store costexplorer.UsageStore, path string) (Summary, error) {
	f, err := openRegular(path)
	if err != nil {
		return Summary{File: path}, err
	}
	defer f.Close()
	return Import(ctx, store, path, f)
}

// ChunkRows is how many rows the importer hands the store at a time.
const ChunkRows = 16384

// Import reads the invoice CSV r, naming it name in the summary and errors,
// and ingests it all-or-nothing: the store gains the whole file or, on any
// error, nothing. Parse faults are *ImportError; store faults are returned
// wrapped, naming the file.
//
// A store that ingests in sessions (costexplorer.UsageSessionStore) gets the
// file in chunks of ChunkRows rows as they are read, within one session
// committed at the end: memory stays bounded whatever the file's size, and
// reading overlaps ingesting. Any other store gets one IngestUsage of the
// whole file, which must then fit in memory (MaxFileSize).
func Import(ctx context.Context, store costexplorer.UsageStore, name string, r io.Reader) (Summary, error) {
	ss, ok := store.(costexplorer.UsageSessionStore)
	if !ok {
		return importWhole(ctx, store, name, r)
	}
	return importStream(ctx, ss, name, r, ChunkRows, 0)
}

// importStream is Import into a session store, in chunks of chunkRows rows,
// with a Bloom filter of at most bloomBytes (0: maxBloomBytes).
func importStream(ctx context.Context, ss costexplorer.UsageSessionStore, name string, r io.Reader, chunkRows, bloomBytes int) (Summary, error) {
	sum := Summary{File: name}
	occ, err := newSpillCounter(bloomBytes, fileSize(r))
	if err != nil {
		return sum, &ImportError{File: name, Msg: err.Error()}
	}
	defer occ.close()
	sess, err := ss.BeginUsage(ctx)
	if err != nil {
		return sum, fmt.Errorf("%s: ingest: %w", name, err)
	}
	defer sess.Rollback()
	p := newParser(name, r, occ)
	if sum, err = addChunks(ctx, sess, p, chunkRows); err != nil {
		return sum, err
	}
	if sum.Rows == 0 {
		return sum, nil // sess.Rollback: nothing to commit
	}
	res, err := sess.Commit(ctx)
	if err != nil {
		return sum, fmt.Errorf("%s: ingest: %w", name, err)
	}
	sum.Inserted, sum.Duplicates = res.Inserted, res.Duplicates
	return sum, nil
}

// Options adapt a sessioned import ([ImportInto]) to a source that knows
// more than its CSV says: a sync from an Atlas-compatible server, which
// learns cluster ids from the cost explorer and replaces an invoice as a
// whole.
type Options struct {
	// ClusterID returns the id of the cluster a row names by project and
	// name, or "" for the derived id (costexplorer.ClusterIDFor). Nil
	// derives every id.
	ClusterID func(projectID, name string) string
	// ItemID, when set, gives the item li of the n-th row (from 1) the id
	// ItemID(n, li) instead of one derived from the row's content and
	// occurrence: no occurrences are counted, and ids that grow with n keep
	// the rows in the file's order wherever a store orders by id.
	ItemID func(row int, li *costexplorer.LineItem) costexplorer.LineItemID
}

// ImportInto reads the invoice CSV r into sess in chunks of ChunkRows rows
// without committing: the caller adds what else belongs in the same
// transaction, then commits (or rolls back on an error). Rows are read as
// Import reads them; o adapts their ids. On an error sess has ended or must
// be rolled back.
func ImportInto(ctx context.Context, sess costexplorer.UsageSession, name string, r io.Reader, o Options) (Summary, error) {
	var occ occurrences = firstOccurrence{}
	if o.ItemID == nil {
		sc, err := newSpillCounter(0, fileSize(r))
		if err != nil {
			return Summary{File: name}, &ImportError{File: name, Msg: err.Error()}
		}
		defer sc.close()
		occ = sc
	}
	p := newParser(name, r, occ)
	p.opts = o
	return addChunks(ctx, sess, p, ChunkRows)
}

// addChunks parses p's file into sess in chunks of chunkRows rows. The
// store takes chunk n while the parser reads chunk n+1: two cores busy, and
// at most three chunks in memory (one read, one queued, one in the store).
func addChunks(ctx context.Context, sess costexplorer.UsageSession, p *parser, chunkRows int) (Summary, error) {
	sum := Summary{File: p.name}
	chunks := make(chan *costexplorer.UsageBatch, 1)
	failed := make(chan struct{})
	var storeErr error
	stored := make(chan struct{})
	go func() {
		defer close(stored)
		for b := range chunks {
			if storeErr != nil {
				continue
			}
			if storeErr = sess.Add(ctx, b); storeErr != nil {
				close(failed)
			}
		}
	}()
	errStore := errors.New("store failed")
	p.chunkRows = chunkRows
	p.batch.Items = make([]costexplorer.LineItem, 0, chunkRows)
	p.emit = func(b *costexplorer.UsageBatch) error {
		select {
		case chunks <- b:
			return nil
		case <-failed:
			return errStore
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	parseErr := p.parse()
	close(chunks)
	<-stored
	sum.Rows, sum.Total = p.rows, p.total
	switch {
	case parseErr != nil && ctx.Err() != nil && errors.Is(parseErr, ctx.Err()):
		return sum, fmt.Errorf("%s: ingest: %w", p.name, parseErr)
	case parseErr != nil && !errors.Is(parseErr, errStore):
		return sum, parseErr
	case storeErr != nil:
		return sum, fmt.Errorf("%s: ingest: %w", p.name, storeErr)
	}
	return sum, nil
}

// importWhole parses the whole file and ingests it in one IngestUsage call.
func importWhole(ctx context.Context, store costexplorer.UsageStore, name string, r io.Reader) (Summary, error) {
	sum := Summary{File: name}
	b, err := Parse(name, r)
	if err != nil {
		return sum, err
	}
	sum.Rows = len(b.Items)
	for i := range b.Items {
		sum.Total += b.Items[i].Amount
	}
	if len(b.Items) == 0 {
		return sum, nil
	}
	res, err := store.IngestUsage(ctx, b)
	if err != nil {
		return sum, fmt.Errorf("%s: ingest: %w", name, err)
	}
	sum.Inserted, sum.Duplicates = res.Inserted, res.Duplicates
	return sum, nil
}

// fileSize returns the size of r if it is a regular file, else 0.
func fileSize(r io.Reader) int64 {
	if f, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return 0
}

// openRegular opens path for reading only if it is a regular file. The mode
// is checked before opening, so that a FIFO cannot block the open, and again
// on the opened file, so that a swap in between is caught.
func openRegular(path string) (*os.File, error) {
	notRegular := func(fi os.FileInfo) error {
		what := "not a regular file"
		switch {
		case fi.IsDir():
			what = "a directory"
		case fi.Mode()&os.ModeDevice != 0:
			what = "a device"
		case fi.Mode()&os.ModeNamedPipe != 0:
			what = "a named pipe"
		case fi.Mode()&os.ModeSocket != 0:
			what = "a socket"
		}
		return &ImportError{File: path, Msg: what + ", not a CSV file"}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &ImportError{File: path, Msg: pathErr(err)}
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &ImportError{File: path, Msg: pathErr(err)}
	}
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, &ImportError{File: path, Msg: err.Error()}
		}
		return nil, notRegular(fi)
	}
	return f, nil
}

// pathErr returns the cause of a path error without repeating the path.
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
