package importer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/costexplorer/costexplorer"
)

// FuzzParse checks that no input panics Parse, that every rejection is an
// *ImportError, and that accepted input parses the same way twice and
// survives a round trip through the CSV costexplorer writes unchanged, ids
// included: importing what costexplorer serves is a no-op.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(testHeader + "\n" + clusterRow(nil) + "\n"))
	f.Add([]byte(atlasSummary + testHeader + ",team,'=env\n" + clusterRow(nil) + ",a;b,'+x\n"))
	f.Add([]byte(strings.Replace(atlasSummary, orgA, orgB, 1) + testHeader + ",\n" + clusterRow(nil) + ",\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse("fuzz.csv", bytes.NewReader(data))
		if err != nil {
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("rejection is %T, not *ImportError: %v", err, err)
			}
			if ie.File != "fuzz.csv" || ie.Line < 0 || (ie.Line > 0 && ie.Column < 1) || ie.Msg == "" {
				t.Fatalf("malformed ImportError %#v", ie)
			}
			return
		}
		again, err := Parse("fuzz.csv", bytes.NewReader(data))
		if err != nil || !reflect.DeepEqual(b, again) {
			t.Fatalf("second parse differs: %v", err)
		}
		checkBatch(t, b)

		out := writeCanonical(t, b)
		rt, err := Parse("roundtrip.csv", bytes.NewReader(out))
		if err != nil {
			t.Fatalf("canonical form rejected: %v\n%s", err, out)
		}
		if len(rt.Items) != len(b.Items) {
			t.Fatalf("round trip has %d items, want %d", len(rt.Items), len(b.Items))
		}
		if !reflect.DeepEqual(b, rt) {
			t.Fatalf("round trip differs:\n%+v\n%+v", b, rt)
		}
	})
}

// checkBatch asserts what IngestUsage relies on: valid items that reference
// dimensions of the batch, and unique dimensions.
func checkBatch(t *testing.T, b *costexplorer.UsageBatch) {
	t.Helper()
	orgs, projects, clusters := map[string]bool{}, map[string]string{}, map[string]string{}
	for i := range b.Organizations {
		o := &b.Organizations[i]
		if err := o.Validate(); err != nil || orgs[o.ID] {
			t.Fatalf("organization %+v: %v (or repeated)", o, err)
		}
		orgs[o.ID] = true
	}
	for _, p := range b.Projects {
		if _, dup := projects[p.ID]; dup || !orgs[p.OrgID] || p.Name == "" {
			t.Fatalf("bad project %+v", p)
		}
		projects[p.ID] = p.OrgID
	}
	for _, c := range b.Clusters {
		if _, dup := clusters[c.ID]; dup || c.Name == "" || projects[c.ProjectID] == "" {
			t.Fatalf("bad cluster %+v", c)
		}
		clusters[c.ID] = c.ProjectID
	}
	for i := range b.Items {
		li := &b.Items[i]
		if err := li.Validate(); err != nil {
			t.Fatal(err)
		}
		if !orgs[li.OrgID] || (li.ProjectID != "" && projects[li.ProjectID] != li.OrgID) ||
			(li.ClusterID != "" && clusters[li.ClusterID] != li.ProjectID) {
			t.Fatalf("item %+v references dimensions outside its batch", li)
		}
	}
}

// writeCanonical writes b back with costexplorer's invoice CSV writer: with
// the summary block when the batch is one invoice, else in the bare layout.
func writeCanonical(t *testing.T, b *costexplorer.UsageBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := costexplorer.WriteBatchCSV(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
