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

// ImportFile parses the file at path and ingests it in one IngestUsage call:
// the store gains the whole file or, on any error, nothing. path must name a
// regular file (not a directory, device or pipe). Parse faults are
// *ImportError; store faults are returned wrapped, naming the file.
func ImportFile(ctx context.Context, store costexplorer.UsageStore, path string) (Summary, error) {
	f, err := openRegular(path)
	if err != nil {
		return Summary{File: path}, err
	}
	defer f.Close()
	return Import(ctx, store, path, f)
}

// Import is ImportFile for a file already open (standard input): it reads r
// completely, naming it name in the summary and errors, and ingests it in one
// IngestUsage call.
func Import(ctx context.Context, store costexplorer.UsageStore, name string, r io.Reader) (Summary, error) {
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
	if fi.Size() > MaxFileSize {
		return nil, &ImportError{File: path, Msg: fmt.Sprintf("file is %d bytes, larger than the %d MiB limit", fi.Size(), MaxFileSize>>20)}
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
