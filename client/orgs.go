package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// Link is an Atlas link (RFC 5988 relation).
type Link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// Organization is an Atlas organization.
type Organization struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IsDeleted bool   `json:"isDeleted"`
	Links     []Link `json:"links,omitempty"`
}

// OrganizationPage is one page of organizations.
type OrganizationPage struct {
	Results []Organization `json:"results"`
	// TotalCount is the number of organizations across all pages (0 when
	// the count was not asked for).
	TotalCount int    `json:"totalCount"`
	Links      []Link `json:"links"`
}

// HasNext reports whether the server links a next page.
func (p *OrganizationPage) HasNext() bool { return hasNext(p.Links) }

// ListOptions selects a page of a list. Zero fields take the server's
// defaults (page 1, 100 items, with the total count).
type ListOptions struct {
	PageNum      int
	ItemsPerPage int
	// OmitCount asks the server not to count the items (includeCount=false).
	OmitCount bool
	// Name filters organizations by a case-insensitive name prefix.
	Name string
}

func (o ListOptions) query() string {
	v := url.Values{}
	if o.PageNum > 0 {
		v.Set("pageNum", strconv.Itoa(o.PageNum))
	}
	if o.ItemsPerPage > 0 {
		v.Set("itemsPerPage", strconv.Itoa(o.ItemsPerPage))
	}
	if o.OmitCount {
		v.Set("includeCount", "false")
	}
	if o.Name != "" {
		v.Set("name", o.Name)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Organizations returns one page of the organizations the caller can reach.
func (c *Client) Organizations(ctx context.Context, opts ListOptions) (*OrganizationPage, error) {
	return fetch[OrganizationPage](ctx, c, http.MethodGet, "/api/atlas/v2/orgs"+opts.query(), "", nil)
}

// AllOrganizations iterates over every organization the caller can reach,
// page after page. It stops at the first error, which it yields.
func (c *Client) AllOrganizations(ctx context.Context, opts ListOptions) iter.Seq2[Organization, error] {
	return paginate(opts.PageNum, func(page int) (*Page[Organization], error) {
		opts.PageNum = page
		p, err := c.Organizations(ctx, opts)
		if err != nil {
			return nil, err
		}
		return &Page[Organization]{Results: p.Results, TotalCount: p.TotalCount, Links: p.Links}, nil
	})
}

// Organization returns one organization.
func (c *Client) Organization(ctx context.Context, orgID string) (*Organization, error) {
	return fetch[Organization](ctx, c, http.MethodGet, "/api/atlas/v2/orgs/"+url.PathEscape(orgID), "", nil)
}
