package costexplorer

import (
	"strings"
	"testing"
)

func TestUsageBatchValidate(t *testing.T) {
	const org, project, cluster = "aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccc"
	valid := func() *UsageBatch {
		return &UsageBatch{
			Organizations: []Organization{{ID: org, Name: "Acme"}},
			Projects:      []Project{{ID: project, OrgID: org, Name: "web"}},
			Clusters:      []Cluster{{ID: cluster, ProjectID: project, Name: "main"}},
			Items:         []LineItem{{OrgID: org, ProjectID: project, ClusterID: cluster, Service: "Clusters"}},
		}
	}
	tests := []struct {
		name string
		edit func(b *UsageBatch)
		want string // part of the error, "" for none
	}{
		{"OK", func(*UsageBatch) {}, ""},
		{"Empty", func(b *UsageBatch) { *b = UsageBatch{} }, ""},
		{"ErrOrganization", func(b *UsageBatch) { b.Organizations[0].Name = "" }, "organization name is required"},
		{"ErrProject", func(b *UsageBatch) { b.Projects = append(b.Projects, Project{ID: "x"}) }, `project id "x"`},
		{"ErrCluster", func(b *UsageBatch) { b.Clusters[0].Name = "" }, "name is required"},
		{"ErrItem", func(b *UsageBatch) { b.Items[0].Service = "Nope" }, `unknown service "Nope"`},
		{"FirstErrorInOrder", func(b *UsageBatch) { b.Items[0].Service = "Nope"; b.Organizations[0].ID = "x" }, "organization id"},
		// An item's ids and service are checked again where they differ
		// from the valid item's before it, and only there.
		{"SameAsItemBefore", func(b *UsageBatch) { b.Items = append(b.Items, b.Items[0], b.Items[0]) }, ""},
		{"ErrOrgAfterValid", func(b *UsageBatch) {
			b.Items = append(b.Items, b.Items[0])
			b.Items[1].OrgID = "aaaaaaaaaaaaaaaaaaaaaaaA"
		}, "organization id"},
		{"ErrEmptyOrgAfterValid", func(b *UsageBatch) { b.Items = append(b.Items, b.Items[0]); b.Items[1].OrgID = "" }, "organization id"},
		{"ErrProjectAfterValid", func(b *UsageBatch) { b.Items = append(b.Items, b.Items[0]); b.Items[1].ProjectID = "b" }, "project id"},
		{"ErrClusterAfterValid", func(b *UsageBatch) { b.Items = append(b.Items, b.Items[0]); b.Items[1].ClusterID = "c" }, "cluster id"},
		{"ErrInvoiceAfterValid", func(b *UsageBatch) {
			b.Items[0].InvoiceID = "dddddddddddddddddddddddd"
			b.Items = append(b.Items, b.Items[0])
			b.Items[1].InvoiceID = "d"
		}, "invoice id"},
		{"ErrServiceAfterValid", func(b *UsageBatch) { b.Items = append(b.Items, b.Items[0]); b.Items[1].Service = "Nope" }, `unknown service "Nope"`},
		{"ErrNoServiceAfterValid", func(b *UsageBatch) { b.Items = append(b.Items, b.Items[0]); b.Items[1].Service = "" }, `unknown service ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := valid()
			tt.edit(b)
			err := b.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if ErrorCode(err) != ErrValidation && ErrorCode(err) != ErrMissingAttribute || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want a validation error with %q", err, tt.want)
			}
		})
	}
}
