package costexplorer

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// IsID reports whether s is a 24-character lower-case hexadecimal id, the
// form of every Atlas organization, project, cluster and invoice id.
func IsID(s string) bool { return isLowerHex(s, 24) }

// DeriveID returns a deterministic 24-hex id from the given parts, for ids
// that a source does not carry (a cluster id from its project and name, an
// invoice id from its organization and month).
func DeriveID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// InvoiceID returns the derived id of an organization's invoice for a month:
// the id an invoice gets when its source names none (the demo, a CSV without
// an Invoice Number), the same for the same organization and month whichever
// source the usage came from. An invoice imported or synced with its own id
// keeps that id; the store is the authority (InvoiceStore.InvoiceIDs).
func InvoiceID(orgID string, m Month) string { return DeriveID("invoice", orgID, m.String()) }

// ClusterIDFor returns the id of a cluster known only by its project and name
// (an invoice CSV row carries no cluster id).
func ClusterIDFor(projectID, clusterName string) string {
	return DeriveID("cluster", projectID, clusterName)
}

// Organization is an Atlas organization. PayingOrgID is set when the
// organization is linked to a paying organization (cross-organization
// billing): a query on the paying organization then covers its usage too.
type Organization struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	PayingOrgID        string    `json:"payingOrgId,omitempty"`
	RequiresAccessList bool      `json:"requiresAccessList,omitempty"`
	CreatedAt          time.Time `json:"created"`
}

// Validate checks the fields a store relies on.
func (o *Organization) Validate() error {
	if !IsID(o.ID) {
		return FieldError(ErrValidation, "id", "organization id must be 24 lower-case hexadecimal characters")
	}
	if o.Name == "" {
		return FieldError(ErrMissingAttribute, "name", "organization name is required")
	}
	if o.PayingOrgID != "" && (!IsID(o.PayingOrgID) || o.PayingOrgID == o.ID) {
		return FieldError(ErrValidation, "payingOrgId", "paying organization id must be another organization's 24-hex id")
	}
	return nil
}

// Project is an Atlas project (a "group" in the Admin API) of one organization.
type Project struct {
	ID    string `json:"id"`
	OrgID string `json:"orgId"`
	Name  string `json:"name"`
}

// Validate checks the project's ids and name; errors are ErrValidation.
func (p *Project) Validate() error {
	return validateNamed("project", p.ID, "organization", p.OrgID, p.Name)
}

// Cluster is a cluster of one project. Provider and Tier are descriptive
// (AWS/GCP/AZURE, M10…M80, SERVERLESS, FLEX).
type Cluster struct {
	ID        string `json:"id"`
	ProjectID string `json:"projectId"`
	Name      string `json:"name"`
	Provider  string `json:"provider,omitempty"`
	Tier      string `json:"tier,omitempty"`
}

// Validate checks the cluster's ids and name; errors are ErrValidation.
func (c *Cluster) Validate() error {
	return validateNamed("cluster", c.ID, "project", c.ProjectID, c.Name)
}

// validateNamed checks the id, the parent's id and the name of a kind of
// thing that belongs to a parent kind (a project to an organization, a
// cluster to a project).
func validateNamed(kind, id, parent, parentID, name string) error {
	switch {
	case !IsID(id):
		return Errorf(ErrValidation, "%s id %q must be 24 lower-case hexadecimal characters", kind, id)
	case !IsID(parentID):
		return Errorf(ErrValidation, "%s %s: invalid %s id %q", kind, id, parent, parentID)
	case name == "":
		return Errorf(ErrValidation, "%s %s: name is required", kind, id)
	}
	return nil
}

// OrganizationFilter selects organizations for listing. IDs, when non-nil,
// restricts the list to those ids; NamePrefix matches the start of the name
// case-insensitively. Offset and Limit page through the list ordered by name,
// then id; Limit 0 means no limit.
type OrganizationFilter struct {
	IDs        []string
	NamePrefix string
	Offset     int
	Limit      int
}
