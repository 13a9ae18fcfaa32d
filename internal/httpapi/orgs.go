package httpapi

import (
	"math"
	"net/http"
	"net/netip"

	"github.com/costexplorer/costexplorer"
)

// organizationView is the Atlas AtlasOrganization.
type organizationView struct {
	ID        string              `json:"id"`
	IsDeleted bool                `json:"isDeleted"`
	Links     []costexplorer.Link `json:"links"`
	Name      string              `json:"name"`
}

// organizationList is the Atlas PaginatedOrganizationView; Status is set
// only with envelope=true.
type organizationList = costexplorer.Paginated[organizationView]

// baseURL is the scheme and host the client addressed, for links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) orgView(r *http.Request, o *costexplorer.Organization) organizationView {
	return organizationView{
		ID:    o.ID,
		Name:  o.Name,
		Links: []costexplorer.Link{{Href: baseURL(r) + "/api/atlas/v2/orgs/" + o.ID, Rel: "self"}},
	}
}

// maxItemsPerPage is the Atlas bound of itemsPerPage.
const maxItemsPerPage = 500

// listOrgs serves GET /api/atlas/v2/orgs: the organizations the caller can
// reach, which is its own organization (a paying organization's credential
// reaches its linked organizations' usage through its own queries, not as
// organizations of its own). Query parameters: pageNum ≥ 1 (1),
// itemsPerPage 1–500 (100), includeCount (true), name (case-insensitive
// prefix).
func (s *Server) listOrgs(c *call) (reply, error) {
	q := c.r.URL.Query()
	page, err := intParam(q, "pageNum", 1, 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	per, err := intParam(q, "itemsPerPage", 100, 1, maxItemsPerPage)
	if err != nil {
		return nil, err
	}
	includeCount, err := boolParam(q, "includeCount", true)
	if err != nil {
		return nil, err
	}
	var name string
	if vals, ok := q["name"]; ok {
		if len(vals) != 1 || len(vals[0]) > 64 {
			return nil, errQueryParameter("name", vals[0], "give one name prefix of at most 64 characters.")
		}
		name = vals[0]
	}
	offset := int64(page-1) * int64(per)
	var orgs []*costexplorer.Organization
	total := 0
	if offset < math.MaxInt32 {
		orgs, total, err = s.cfg.Store.Organizations(c.r.Context(), costexplorer.OrganizationFilter{
			IDs: []string{c.principal.OrgID}, NamePrefix: name, Offset: int(offset), Limit: per,
		})
		if err != nil {
			return nil, err
		}
	}
	list := organizationList{Results: []organizationView{}}
	for _, o := range orgs {
		list.Results = append(list.Results, s.orgView(c.r, o))
	}
	list.Links = pageLinks(c.r, costexplorer.PageRequest{PageNum: page, ItemsPerPage: per}, offset+int64(len(orgs)) < int64(total))
	if includeCount {
		list.TotalCount = &total
	}
	return listBody{http.StatusOK, &list, func(st int) { list.Status = &st }}, nil
}

// getOrg serves GET /api/atlas/v2/orgs/{orgId}. Any role of the
// organization may read it.
func (s *Server) getOrg(c *call) (reply, error) {
	o, err := s.cfg.Store.Organization(c.r.Context(), c.orgID)
	if err != nil {
		if costexplorer.IsNotFound(err) {
			return nil, errNotFound("Cannot find organization " + c.orgID + ".")
		}
		return nil, err
	}
	return entity{http.StatusOK, s.orgView(c.r, o)}, nil
}

// apiKeyView is the Atlas ApiKey of the system status.
type apiKeyView struct {
	AccessList []accessListItem `json:"accessList"`
	ID         string           `json:"id"`
	PublicKey  string           `json:"publicKey"`
	Roles      []roleAssignment `json:"roles"`
}

type accessListItem struct {
	CIDRBlock *string `json:"cidrBlock"`
	IPAddress *string `json:"ipAddress"`
}

type roleAssignment struct {
	OrgID    string `json:"orgId"`
	RoleName string `json:"roleName"`
}

// systemStatus is the Atlas SystemStatus.
type systemStatus struct {
	APIKey     *apiKeyView         `json:"apiKey"`
	AppName    string              `json:"appName"`
	Build      string              `json:"build"`
	Links      []costexplorer.Link `json:"links"`
	Throttling bool                `json:"throttling"`
}

// systemStatus serves GET /api/atlas/v2: the application and the calling
// API key's id, public key, roles and access list. A service account is not
// an API key: its apiKey is null (the Atlas schema marks it nullable).
func (s *Server) systemStatus(c *call) (reply, error) {
	st := systemStatus{
		AppName: "MongoDB Atlas",
		Build:   s.build,
		Links:   []costexplorer.Link{{Href: baseURL(c.r) + "/api/atlas/v2", Rel: "self"}},
	}
	if p := c.principal; p.Kind == costexplorer.PrincipalAPIKey {
		k := &apiKeyView{ID: p.ID, PublicKey: p.PublicKey, AccessList: []accessListItem{}, Roles: []roleAssignment{}}
		for _, role := range p.Roles {
			k.Roles = append(k.Roles, roleAssignment{OrgID: p.OrgID, RoleName: string(role)})
		}
		for _, e := range p.AccessList {
			k.AccessList = append(k.AccessList, accessListView(e))
		}
		st.APIKey = k
	}
	return entity{http.StatusOK, st}, nil
}

// accessListView shows an access-list entry as Atlas does: a single address
// as its host prefix and the address, a CIDR block with a null ipAddress.
func accessListView(e string) accessListItem {
	if a, err := netip.ParseAddr(e); err == nil {
		cidr := netip.PrefixFrom(a, a.BitLen()).String()
		ip := a.String()
		return accessListItem{CIDRBlock: &cidr, IPAddress: &ip}
	}
	cidr := e
	if p, err := netip.ParsePrefix(e); err == nil {
		cidr = p.Masked().String()
	}
	return accessListItem{CIDRBlock: &cidr}
}
