// Command e2elatency times cost-explorer queries end to end, one at a time,
// the way bench's end-to-end figures are taken: POST a query, poll it with
// ?envelope=true (the first poll at once, then every 0.5 ms) until it is
// ready, and read the result. Each query is new (the body's %s is replaced
// by a distinct id that matches nothing), so each is evaluated afresh. It
// prints the median, p90, p99 and maximum in milliseconds. scripts/wirespeed.sh
// runs it (WIRESPEED_LATENCY=1); one query in flight, so it does not load
// the server's cores the way a throughput generator would.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

func main() {
	url := flag.String("url", "", "the usage endpoint: http://127.0.0.1:PORT/api/atlas/v2/orgs/ORG/billing/costExplorer/usage")
	bearer := flag.String("bearer", os.Getenv("E2E_BEARER"), "access token (default $E2E_BEARER)")
	body := flag.String("body", "", "query body; %s becomes a distinct 24-hex id")
	n := flag.Int("n", 200, "queries")
	warm := flag.Int("warm", 10, "queries before timing")
	flag.Parse()
	if *url == "" || *body == "" || !strings.Contains(*body, "%s") {
		log.Fatal("e2elatency: -url and -body (with its placeholder) are needed")
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	do := func(method, u string, b []byte) (int, []byte) {
		req, err := http.NewRequest(method, u, bytes.NewReader(b))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+*bearer)
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		if b != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := hc.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		if err != nil {
			log.Fatal(err)
		}
		return res.StatusCode, out
	}
	run := time.Now().UnixNano()
	var times []time.Duration
	for i := 0; i < *warm+*n; i++ {
		id := fmt.Sprintf("%016x%08x", uint64(run), i)[:24]
		start := time.Now()
		status, out := do("POST", *url, []byte(fmt.Sprintf(*body, id)))
		var created struct{ Token string }
		if status != http.StatusAccepted || json.Unmarshal(out, &created) != nil {
			log.Fatalf("create: %d %s", status, out)
		}
		for poll := 0; ; poll++ {
			status, out = do("GET", *url+"/"+created.Token+"?envelope=true", nil)
			var env struct{ Status int }
			if status != http.StatusOK || json.Unmarshal(out, &env) != nil {
				log.Fatalf("poll: %d %.200s", status, out)
			}
			if env.Status == http.StatusOK {
				break
			}
			if poll > 60000 {
				log.Fatal("not ready after 60,000 polls")
			}
			time.Sleep(500 * time.Microsecond)
		}
		if i >= *warm {
			times = append(times, time.Since(start))
		}
	}
	slices.Sort(times)
	q := func(p float64) float64 {
		return float64(times[min(len(times)-1, int(p*float64(len(times))))].Microseconds()) / 1000
	}
	fmt.Printf("%d queries: median %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", len(times), q(0.5), q(0.9), q(0.99), q(1))
}
