package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/costexplorer/costexplorer/bench"
)

// getFormat is one way of asking for a ready result.
type getFormat struct {
	name, query, accept, file string
}

var getFormats = []getFormat{
	{"JSON", "", bench.MediaType, "json"},
	{"CSV", "", bench.CSVMediaType, "csv"},
	{"envelope", "?envelope=true", bench.MediaType, "envelope.json"},
}

// measureGets loads each query's ready result with wrk (2 threads, the
// run's connections, keep-alive, loopback, a bounded duration) in JSON, CSV
// and ?envelope=true, identity and gzip, from our server, and the same bytes
// from nginx (plain, and with gzip_static for gzip), started and stopped
// here. The wrk process and nginx share the 2 cores with our server as the
// Go load generator did, but neither parses a body.
func measureGets(ctx context.Context, cfg *config, res *SizeResult, srv *bench.Server, dir string, queries []bench.RefQuery, ready []string, clients map[string]*bench.Client) error {
	ngx, err := bench.StartNginx(ctx, cfg.Nginx, filepath.Join(dir, "nginx"))
	if err != nil {
		return err
	}
	defer ngx.Stop()
	const threads = 2
	wrk := func(url string, headers map[string]string) (bench.WrkResult, time.Duration, error) {
		cpu0, err := srv.CPUTime()
		if err != nil {
			return bench.WrkResult{}, 0, err
		}
		r, err := bench.Wrk(ctx, cfg.Wrk, url, threads, cfg.Workers, cfg.WrkFor, headers)
		if err != nil {
			return r, 0, err
		}
		cpu1, err := srv.CPUTime()
		if err != nil {
			return r, 0, err
		}
		if r.Non2xx > 0 {
			return r, 0, fmt.Errorf("wrk %s: %d of %d answers were not 2xx", url, r.Non2xx, r.Requests)
		}
		return r, (cpu1 - cpu0) / time.Duration(max(r.Requests, 1)), nil
	}
	for qi := range queries {
		rq := &queries[qi]
		c := clients[rq.Query.OrgID]
		for _, f := range getFormats {
			url := c.ResultURL(ready[qi]) + f.query
			h := map[string]string{"Authorization": "Bearer " + c.Token, "Accept": f.accept}
			hz := map[string]string{"Authorization": "Bearer " + c.Token, "Accept": f.accept, "Accept-Encoding": "gzip"}
			// The bodies once, checked: identity when gzip is not asked for,
			// and the gzip answer (if the server compresses) decodes to it.
			status, enc, body, err := bench.Fetch(ctx, url, h)
			if err != nil {
				return err
			}
			if status != 200 || enc != "" || len(body) == 0 {
				return fmt.Errorf("%s %s: %d, Content-Encoding %q, %d bytes without Accept-Encoding", rq.Name, f.name, status, enc, len(body))
			}
			if f.query != "" && !bytes.HasPrefix(body, []byte(`{"status":200`)) {
				return fmt.Errorf("%s %s: not a ready envelope: %.80s", rq.Name, f.name, body)
			}
			g := GetResult{Format: f.name, Bytes: len(body)}
			// The server compresses a result from its second gzip ask on, in
			// the background, answering identity meanwhile: ask until the
			// gzip form comes (bounded), so that the cell records the
			// encoding wrk's requests get, not the first one's.
			var (
				encZ string
				gz   []byte
			)
			for try := 0; ; try++ {
				status, encZ, gz, err = bench.Fetch(ctx, url, hz)
				if err != nil {
					return err
				}
				if status != 200 || encZ != "" || try == 50 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			g.Encoding = encZ
			g.GzipBytes = len(gz)
			switch {
			case status != 200:
				return fmt.Errorf("%s %s with gzip: %d", rq.Name, f.name, status)
			case g.Encoding == "gzip":
				plain, err := bench.Gunzip(gz)
				if err != nil || !bytes.Equal(plain, body) {
					return fmt.Errorf("%s %s: the gzip answer does not decode to the identity body (%v)", rq.Name, f.name, err)
				}
			case g.Encoding != "" || !bytes.Equal(gz, body):
				return fmt.Errorf("%s %s: Content-Encoding %q to Accept-Encoding: gzip", rq.Name, f.name, g.Encoding)
			}
			name := rq.Name + "." + f.file
			if g.NginxGzipBytes, err = ngx.Put(name, body); err != nil {
				return err
			}
			if g.Ours, g.CPU, err = wrk(url, h); err != nil {
				return err
			}
			if g.OursGzip, g.CPUGzip, err = wrk(url, hz); err != nil {
				return err
			}
			if g.Nginx, _, err = wrk(ngx.BaseURL+"/plain/"+name, map[string]string{"Accept": f.accept}); err != nil {
				return err
			}
			if g.NginxGzip, _, err = wrk(ngx.BaseURL+"/gz/"+name, map[string]string{"Accept": f.accept, "Accept-Encoding": "gzip"}); err != nil {
				return err
			}
			logf("%s GET %s (wrk): identity %d B: ours %.0f/s (CPU %v/request), nginx %.0f/s (%.2f×); gzip (%q, %d B; nginx %d B): ours %.0f/s (CPU %v/request), nginx gzip_static %.0f/s (%.2f×)",
				rq.Name, f.name, g.Bytes, g.Ours.PerSecond, g.CPU, g.Nginx.PerSecond, g.Ours.PerSecond/g.Nginx.PerSecond,
				g.Encoding, g.GzipBytes, g.NginxGzipBytes, g.OursGzip.PerSecond, g.CPUGzip, g.NginxGzip.PerSecond, g.OursGzip.PerSecond/g.NginxGzip.PerSecond)
			res.Queries[qi].Gets = append(res.Queries[qi].Gets, g)
			if f.name == "JSON" {
				res.Queries[qi].BodyBytes = g.Bytes
			}
		}
	}
	return ngx.Stop()
}
