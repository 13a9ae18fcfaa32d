package clienttest

import (
	"context"
	"net/http"
	"testing"
)

// orgListParams are the query parameters of the organization list; zero
// values are not set on the SDK request.
type orgListParams struct {
	pageNum, itemsPerPage int
	includeCount          *bool
	name                  string
}

// listOrgs is GET /api/atlas/v2/orgs: ListOrganizations in v20250312001,
// renamed ListOrgs by v20250312020.
func (c *sdkClient) listOrgs(ctx context.Context, p orgListParams) call {
	switch {
	case c.a001 != nil:
		return listOrgsWith(c.a001.OrganizationsApi.ListOrganizations(ctx), p)
	default:
		return listOrgsWith(c.a020.OrganizationsApi.ListOrgs(ctx), p)
	}
}

// orgListRequest is the SDK's organization-list request builder, the same
// methods at every version.
type orgListRequest[R, V any] interface {
	countedRequest[R, V]
	Name(string) R
}

func listOrgsWith[R orgListRequest[R, V], V any](r R, p orgListParams) call {
	r = counted(r, p.pageNum, p.itemsPerPage, p.includeCount)
	if p.name != "" {
		r = r.Name(p.name)
	}
	return result(r.Execute())
}

// getOrg is GET /api/atlas/v2/orgs/{orgId}: GetOrganization, renamed GetOrg.
func (c *sdkClient) getOrg(ctx context.Context, orgID string) call {
	switch {
	case c.a001 != nil:
		return result(c.a001.OrganizationsApi.GetOrganization(ctx, orgID).Execute())
	default:
		return result(c.a020.OrganizationsApi.GetOrg(ctx, orgID).Execute())
	}
}

func TestOrganizations(t *testing.T) {
	no := false
	forEachClient(t, func(t *testing.T, c *sdkClient) {
		ctx := t.Context()
		t.Run("List", func(t *testing.T) {
			c.checkOK(t, ctx, "list organizations", c.listOrgs(ctx, orgListParams{}), http.StatusOK)
		})
		t.Run("ListWithEveryParameter", func(t *testing.T) {
			for _, p := range []orgListParams{
				{pageNum: 1, itemsPerPage: 1},
				{pageNum: 2, itemsPerPage: 1}, // past the last page: no results
				{includeCount: &no},
				{name: demo.creds.OrgName[:4]},
				{name: "no organization has this name"},
			} {
				c.checkOK(t, ctx, "list organizations", c.listOrgs(ctx, p), http.StatusOK)
			}
		})
		t.Run("Get", func(t *testing.T) {
			r := c.getOrg(ctx, demo.creds.OrgID)
			c.checkOK(t, ctx, "get organization", r, http.StatusOK)
			if id := idOf(r.value); id != demo.creds.OrgID {
				t.Errorf("get organization: id %q, want %q", id, demo.creds.OrgID)
			}
		})
		t.Run("GetEveryListed", func(t *testing.T) {
			r := c.listOrgs(ctx, orgListParams{})
			if r.err != nil {
				t.Fatal(r.err)
			}
			ids := resultIDs(r.value)
			if len(ids) == 0 {
				t.Fatal("the list has no organization")
			}
			for _, id := range ids {
				c.checkOK(t, ctx, "get organization "+id, c.getOrg(ctx, id), http.StatusOK)
			}
		})
		t.Run("Errors", func(t *testing.T) {
			c.checkErrors(t, ctx, []errorCase{
				{"ErrItemsPerPageTooLarge", c.listOrgs(ctx, orgListParams{itemsPerPage: 501}), 400, "INVALID_QUERY_PARAMETER"},
				{"ErrPageNumNegative", c.listOrgs(ctx, orgListParams{pageNum: -1}), 400, "INVALID_QUERY_PARAMETER"},
				{"ErrInvalidOrgID", c.getOrg(ctx, "not-an-org"), 400, "INVALID_PATH_PARAMETER"},
				// An organization the caller cannot reach, whether or not it exists.
				{"ErrForeignOrg", c.getOrg(ctx, "0123456789abcdef01234567"), 401, "USER_UNAUTHORIZED"},
			})
		})
	})
}

// idOf returns the id of an SDK organization model of either version.
func idOf(v any) string {
	m, _ := jsonValue(mustJSON(v)).(map[string]any)
	id, _ := m["id"].(string)
	return id
}

// resultIDs returns the ids in the results of an SDK page of either version.
func resultIDs(v any) []string {
	m, _ := jsonValue(mustJSON(v)).(map[string]any)
	rs, _ := m["results"].([]any)
	var ids []string
	for _, r := range rs {
		if id := idOf(r); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}
